from __future__ import annotations

import pytest

from datamill.auth.passwords import hash_password, verify_password
from datamill.problems import Invalid


def test_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    stored = hash_password("s3cret-enough")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret-enough")
    assert not verify_password(stored, "s3cret-enougH")


def test_verify_without_a_hash_is_false() -> None:
    assert not verify_password(None, "anything-at-all")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(Invalid, match="at least 8"):
        hash_password("short")
