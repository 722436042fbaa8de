"""Push security as WeChat defines it and Xiaohongshu copies: SHA-1 request signatures and
safe-mode AES-256-CBC (OA, WeCom and Xiaohongshu alike)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from csgw.gateway.channel import ChannelConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
RANDOM_PREFIX = 16


class SignatureError(Exception):
    """A signature in the query did not match: the request did not come from the platform."""


class DecryptError(Exception):
    """An encrypted payload could not be decrypted with any configured key, or names another app."""


def sha1_signature(*parts: str) -> str:
    """Lowercase hex SHA-1 of the parts sorted and concatenated (WeChat's signature scheme)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(given: str | None, *parts: str) -> bool:
    """Compare a received signature in constant time."""
    if not given:
        return False
    return hmac.compare_digest(given.lower().encode(), sha1_signature(*parts).encode())


def parse_encoding_aes_key(encoding_aes_key: str) -> bytes:
    """EncodingAESKey (43 base64 chars) -> the 32-byte AES key."""
    if len(encoding_aes_key) != 43:
        raise ChannelConfigError("encoding_aes_key must be exactly 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ChannelConfigError("encoding_aes_key is not valid base64") from exc
    if len(key) != 32:
        raise ChannelConfigError("encoding_aes_key must decode to 32 bytes")
    return key


def _aes_cbc(key: bytes) -> Cipher[modes.CBC]:
    # imported with the first payload: every csgw command loads the WeChat plugins, few decrypt
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise DecryptError("bad padding")
    return data[:-n]


@dataclass(frozen=True, slots=True)
class Decrypted:
    text: str
    key: bytes  # the key that worked, so a reply goes back under the same key


class MessageCrypto:
    """Safe-mode crypto for one account: `receiver_id` is the AppID (OA) or CorpID (WeCom)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receiver_id: str,
        previous_encoding_aes_key: str | None = None,
    ) -> None:
        self.token = token
        self.receiver_id = receiver_id
        self.key = parse_encoding_aes_key(encoding_aes_key)
        self.keys = [self.key]
        if previous_encoding_aes_key:
            self.keys.append(parse_encoding_aes_key(previous_encoding_aes_key))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return sha1_signature(self.token, timestamp, nonce, encrypted)

    def encrypt(self, plaintext: str, *, key: bytes | None = None) -> str:
        """Base64 ciphertext of random16 + length + message + receiver id."""
        key = key or self.key
        body = plaintext.encode()
        raw = os.urandom(RANDOM_PREFIX) + struct.pack(">I", len(body)) + body
        raw += self.receiver_id.encode()
        encryptor = _aes_cbc(key).encryptor()
        return base64.b64encode(encryptor.update(_pad(raw)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> Decrypted:
        """Try the current key, then the previous one (key rotation)."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise DecryptError("ciphertext length is not a multiple of the AES block")
        last: DecryptError | None = None
        for key in self.keys:
            try:
                return Decrypted(self._decrypt_with(key, data), key)
            except DecryptError as exc:
                last = exc
        raise last or DecryptError("no key")

    def _decrypt_with(self, key: bytes, data: bytes) -> str:
        decryptor = _aes_cbc(key).decryptor()
        raw = _unpad(decryptor.update(data) + decryptor.finalize())
        if len(raw) < RANDOM_PREFIX + 4:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", raw[RANDOM_PREFIX : RANDOM_PREFIX + 4])
        start = RANDOM_PREFIX + 4
        if start + length > len(raw):
            raise DecryptError("length field exceeds the plaintext")
        trailing = raw[start + length :]
        if not hmac.compare_digest(trailing, self.receiver_id.encode()):
            raise DecryptError("message is addressed to another app or corp")
        try:
            return raw[start : start + length].decode()
        except UnicodeDecodeError as exc:
            raise DecryptError("message is not UTF-8") from exc

    def verify_and_decrypt(
        self, msg_signature: str | None, timestamp: str, nonce: str, encrypted: str
    ) -> Decrypted:
        """Check msg_signature over (token, timestamp, nonce, Encrypt), then decrypt."""
        if not signature_matches(msg_signature, self.token, timestamp, nonce, encrypted):
            raise SignatureError("msg_signature does not match")
        return self.decrypt(encrypted)
