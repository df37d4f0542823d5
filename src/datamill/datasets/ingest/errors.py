"""Wording that problems of several formats share, and DuckDB's own errors made readable."""

from __future__ import annotations

import re

from datamill.datasets.sniff import Encoding

EMPTY = "The file is empty."
_ENCODING_HINT = "If the file uses another encoding, upload it again naming that encoding."
# Where DuckDB's CSV errors say the line is.
CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def invalid_bytes(word: str, line: int, byte: int, column: int, encoding: Encoding) -> str:
    label = encoding.name.upper().removesuffix("-SIG").removesuffix("-LE").removesuffix("-BE")
    return (
        f"{word} {line} is not valid {label} (byte 0x{byte:02x} at column {column}). "
        + _ENCODING_HINT
    )


def duckdb_reason(exc: BaseException) -> str:
    """DuckDB's explanation without its error class, echoed line, hints and option dump."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = re.sub(r"^[\w ]*Error: ", "", lines[0]) if lines else "unknown error"
    if first.startswith(("CSV Error on Line", "Error when sniffing")):
        useful = [
            line
            for line in lines[1:]
            if not line.startswith(("Original Line", "Possible", "*", "file =", "The search"))
            and "=" not in line
        ]
        first = useful[0] if useful else "its layout does not match the rest of the file."
    first = first.rstrip()
    return first if first.endswith(".") else first + "."
