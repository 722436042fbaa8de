"""Visitor ids and their optional HMAC signature from the shop's own site."""

from __future__ import annotations

import hashlib
import hmac
import re

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")  # \Z: "$" would let a trailing newline in


def sign_visitor(secret: str, visitor: str) -> str:
    return hmac.new(secret.encode(), visitor.encode(), hashlib.sha256).hexdigest()


def signature_valid(secret: str, visitor: str, signature: str) -> bool:
    # compare bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, a 500)
    given = (signature or "").encode("utf-8", "replace")
    return hmac.compare_digest(sign_visitor(secret, visitor).encode(), given)
