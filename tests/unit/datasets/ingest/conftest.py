"""The ``lab`` every ingest test works in: an engine, scratch directories, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.datasets.ingest.files import Lab, open_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    yield from open_lab(tmp_path)
