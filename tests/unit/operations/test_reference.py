"""The operations reference in docs/ is the catalogue's own."""

from __future__ import annotations

from pathlib import Path

from datamill.operations.catalog import OPERATIONS, describe
from datamill.operations.reference import markdown

DOCS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"


def test_docs_operations_page_is_current() -> None:
    assert DOCS.read_text() == markdown(), "run `make docs-operations`"


def test_every_operation_is_documented_with_an_example_that_its_schema_accepts() -> None:
    page = DOCS.read_text()
    for name, operation in OPERATIONS.items():
        assert f"### `{name}`" in page
        operation.params.model_validate(operation.example)
        assert describe(operation)["description"]
