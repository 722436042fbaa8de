#!/bin/sh
# Installs Debian's chromium for the browser tests, and a CJK font so screenshots show Chinese
# text; each only when it is missing.
set -eu
missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    missing="$missing fonts-wqy-zenhei"
fi
[ -n "$missing" ] || exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y $missing
