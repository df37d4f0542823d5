"""The line length limit, enforced while the sniff sample is read."""

from __future__ import annotations

from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
)


def test_a_10_mb_single_line_is_refused_with_its_size(lab: Lab) -> None:
    data = b"x" * (10 * 1024 * 1024) + b"\n"
    detail = lab.fails(Invalid, "long.csv", data)
    assert detail == "Line 1 is 10.0 MB long; the limit is 2.0 MB."
