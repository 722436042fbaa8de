#!/bin/sh
# Installs Debian's dovecot-imapd for the e-mail channel tests; a no-op once installed.
set -eu
if command -v dovecot >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "dovecot is missing and installing it needs root: apt-get install dovecot-imapd" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
# The package enables a system-wide instance; the tests run their own on a random port.
if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
service dovecot stop >/dev/null 2>&1 || true
