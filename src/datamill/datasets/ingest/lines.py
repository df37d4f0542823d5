"""An upload read in bounded pieces: chunks, the sniff sample, lines within the length limit."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from datamill.datasets.sniff import SAMPLE_BYTES
from datamill.problems import Invalid

CHUNK = 4 << 20
_MB = 1 << 20


def read_sample(path: Path, max_line_bytes: int) -> tuple[bytes, bool]:
    """The first :data:`SAMPLE_BYTES`, extended to the end of line 1; and whether that is all.

    A first line longer than the limit is refused here: nothing useful can be sniffed from it.
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        sample = bytearray(file.read(SAMPLE_BYTES))
        while b"\n" not in sample and len(sample) < size:
            if len(sample) > max_line_bytes:
                length = len(sample) + rest_of_line(file)
                raise Invalid(too_long("Line", 1, length, max_line_bytes))
            sample += file.read(SAMPLE_BYTES)
    return bytes(sample), len(sample) >= size


def rest_of_line(file: IO[bytes]) -> int:
    """How many more bytes the current line runs for, not counting its line break."""
    length = 0
    while chunk := file.readline(CHUNK):
        length += len(chunk.rstrip(b"\r\n"))
        if chunk.endswith(b"\n"):
            break
    return length


def too_long(word: str, number: int, length: int, limit: int) -> str:
    return f"{word} {number} is {length / _MB:.1f} MB long; the limit is {limit / _MB:.1f} MB."
