"""Loading a CSV: a column a late row breaks is stored as text, with a warning."""

from __future__ import annotations

from tests.unit.datasets.ingest.files import (
    Lab,
)


def test_a_late_type_change_makes_the_column_text_with_a_warning(lab: Lab) -> None:
    lines = [f"{i},{i}" for i in range(1, 40_001)]
    lines[29_999] = "30000,n/a"  # row 30,000 is on line 30,001
    result = lab.ingest("late.csv", ("id,count\n" + "\n".join(lines) + "\n").encode())
    assert {c["name"]: c["type"] for c in result.columns} == {"id": "int", "count": "text"}
    assert result.warnings == [
        'Column "count" is stored as text: it looked like int, but line 30001 holds "n/a".'
    ]
    assert result.row_count == 40_000
    assert lab.rows()[29_999] == {"id": 30_000, "count": "n/a"}
