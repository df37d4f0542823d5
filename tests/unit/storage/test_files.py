from __future__ import annotations

from pathlib import Path

import pytest

from datamill.storage.files import (
    UnsafePathError,
    atomic_target,
    check_id,
    resolve_inside,
    revision_relpath,
)

ID = "0b9a4a0e-2f0c-4d6e-9a59-6f1f6d2f0a11"


def test_atomic_target_publishes_only_complete_files(tmp_path: Path) -> None:
    final = tmp_path / "out.parquet"
    with atomic_target(final) as temp:
        temp.write_bytes(b"data")
        assert not final.exists()
    assert final.read_bytes() == b"data"
    assert list(tmp_path.iterdir()) == [final]


def test_atomic_target_leaves_nothing_when_writing_fails(tmp_path: Path) -> None:
    final = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError), atomic_target(final) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["../etc", "a/b", "", ID.upper(), ID + "/..", "..%2f"])
def test_only_uuids_become_path_parts(value: str) -> None:
    with pytest.raises(UnsafePathError):
        check_id(value)


def test_resolve_inside_refuses_paths_that_escape(tmp_path: Path) -> None:
    assert resolve_inside(tmp_path, revision_relpath(ID, ID)).is_relative_to(tmp_path)
    with pytest.raises(UnsafePathError):
        resolve_inside(tmp_path, "../outside.parquet")
    with pytest.raises(UnsafePathError):
        resolve_inside(tmp_path, "/etc/passwd")
