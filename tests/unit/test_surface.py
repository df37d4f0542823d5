"""Guards on the public surface: every endpoint documented, the package's names declared."""

from __future__ import annotations

import re
from pathlib import Path

import datamill
from datamill.app import create_app
from tests.fixtures.db import make_settings

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_endpoint_is_in_the_api_overview(tmp_path: Path) -> None:
    spec = create_app(make_settings(tmp_path)).openapi()
    documented = API_DOC.read_text()
    missing = []
    for path, operations in spec["paths"].items():
        short = re.sub(r"\{[^}]+\}", "{x}", path.removeprefix("/api/v1"))
        for method in operations:
            tail = re.escape(short).replace(re.escape("{x}"), r"\{\w+\}")
            pattern = re.escape(method.upper()) + r" (/api/v1)?" + tail
            if not re.search(pattern, documented):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_operation_has_a_stable_id_and_a_summary(tmp_path: Path) -> None:
    spec = create_app(make_settings(tmp_path)).openapi()
    for operations in spec["paths"].values():
        for operation in operations.values():
            assert re.fullmatch(r"[a-z_]+", operation["operationId"])
            assert operation["summary"][0].isupper()


def test_package_declares_its_public_names() -> None:
    assert datamill.__all__ == ["__version__"]
    assert all(hasattr(datamill, name) for name in datamill.__all__)
