"""A UTF-8 CSV file for DuckDB: its dialect, its column names and the ``read_csv`` call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datamill.datasets.ingest.output import literal


@dataclass(frozen=True)
class CsvSource:
    """A UTF-8 CSV file for DuckDB, with the dialect and the column names it must be read with."""

    path: Path
    delimiter: str
    header: bool
    names: list[str]
    line_word: str = "Line"  # Excel sheets count rows, not lines
    line_numbers: Sequence[int] | None = None  # the sheet row of each CSV line, when they differ

    def line(self, number: int) -> int:
        if self.line_numbers is None or not 0 < number <= len(self.line_numbers):
            return number
        return self.line_numbers[number - 1]


def csv_relation(source: CsvSource, forced: dict[str, str], max_line_bytes: int) -> str:
    """The ``read_csv`` call with the whole dialect spelled out, so DuckDB's sniffer only types.

    ``skip=0`` and ``comment=''`` matter: left to itself DuckDB drops leading lines of a ragged file
    and every line starting with ``#``, without a word.
    """
    options = [
        f"delim={literal(source.delimiter)}",
        "quote='\"'",
        "escape='\"'",
        f"header={'true' if source.header else 'false'}",
        "skip=0",
        "comment=''",
        f"names=[{', '.join(map(literal, source.names))}]",
        "strict_mode=true",
        "null_padding=false",
        f"max_line_size={max_line_bytes}",
    ]
    if forced:
        types = ", ".join(f"{literal(name)}: {literal(kind)}" for name, kind in forced.items())
        options.append(f"types={{{types}}}")
    return f"read_csv({literal(str(source.path))}, {', '.join(options)})"
