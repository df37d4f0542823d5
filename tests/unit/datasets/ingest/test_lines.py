"""The line length limit, enforced while the sniff sample is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    open_lab,
)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    yield from open_lab(tmp_path)


def test_a_10_mb_single_line_is_refused_with_its_size(lab: Lab) -> None:
    data = b"x" * (10 * 1024 * 1024) + b"\n"
    detail = lab.fails(Invalid, "long.csv", data)
    assert detail == "Line 1 is 10.0 MB long; the limit is 2.0 MB."
