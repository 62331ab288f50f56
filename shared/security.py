"""API keys: high-entropy secrets shown once, stored as sha256 hashes, found by prefix, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_SCHEME = "s2s"
PREFIX_CHARS = 12


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new key as (key, prefix, sha256 hex). The prefix is stored in clear to find the row."""
    prefix = secrets.token_hex(PREFIX_CHARS // 2)
    key = f"{KEY_SCHEME}-{prefix}-{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def parse_prefix(key: str) -> str | None:
    parts = key.split("-", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != PREFIX_CHARS:
        return None
    return parts[1]


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)


def generate_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
