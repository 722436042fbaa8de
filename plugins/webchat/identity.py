"""Visitor ids and their optional HMAC signature from the shop's own site."""

from __future__ import annotations

import hashlib
import hmac
import re

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def sign_visitor(secret: str, visitor: str) -> str:
    return hmac.new(secret.encode(), visitor.encode(), hashlib.sha256).hexdigest()


def signature_valid(secret: str, visitor: str, signature: str) -> bool:
    return hmac.compare_digest(sign_visitor(secret, visitor), signature or "")
