"""Random bearer secrets (session cookies, API tokens) and their keyed hashes.

Only ``HMAC-SHA256(secret_key, token)`` is stored, so a copy of the database alone cannot be used
to sign in; the tokens have 256 bits of entropy, so a fast keyed hash is enough (no argon2 here).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "dm_"  # noqa: S105 - a prefix, not a secret


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()
