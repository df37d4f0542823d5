"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from datamill.problems import Invalid, field_error

_HASHER = PasswordHasher()
MIN_LENGTH = 8
MAX_LENGTH = 1024
# Verifying against this keeps a sign-in for an unknown user as slow as one for a real user.
_DUMMY_HASH = _HASHER.hash("datamill-timing-equaliser")


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(
            f"The password is too short: at least {MIN_LENGTH} characters.",
            errors=[field_error(["body", "password"], f"at least {MIN_LENGTH} characters")],
        )
    if len(password) > MAX_LENGTH:
        raise Invalid(
            f"The password is too long: at most {MAX_LENGTH} characters.",
            errors=[field_error(["body", "password"], f"at most {MAX_LENGTH} characters")],
        )


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; also spends the same time when there is no hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
