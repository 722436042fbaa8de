"""Open-platform request signing: MD5 hex of `path?k=v&…` (keys sorted) followed by the app secret."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def open_platform_sign(path: str, params: Mapping[str, str], app_secret: str) -> str:
    query = "&".join(f"{key}={params[key]}" for key in sorted(params))
    return hashlib.md5(f"{path}?{query}{app_secret}".encode()).hexdigest()
