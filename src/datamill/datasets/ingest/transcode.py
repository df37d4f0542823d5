"""Which encoding a text upload is in, and rewriting it as UTF-8 for DuckDB.

A user-named encoding wins over detection; ingest transcodes whatever is not plain UTF-8 into a
scratch file, and names the line and column of the first byte the encoding cannot decode.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from functools import cache
from pathlib import Path

from datamill.datasets.ingest.errors import invalid_bytes
from datamill.datasets.ingest.job import IngestOptions, Job
from datamill.datasets.ingest.lines import CHUNK
from datamill.datasets.sniff import Encoding, detect_encoding, named_encoding
from datamill.problems import Invalid


def resolve_encoding(options: IngestOptions, sample: bytes, complete: bool) -> Encoding:
    if options.encoding:
        return named_encoding(options.encoding, sample)
    return detect_encoding(sample, complete=complete)


_Decode = Callable[[bytes, bool], str]


def _decoder(codec: str) -> _Decode:
    """A chunk decoder; cp1252 reads the five bytes it leaves undefined as Latin-1.

    cp1252 is the guess for any 8-bit text, so it must not fail: a stray 0x81 in a Windows export
    should not turn a good upload into an error.
    """
    if codec == "cp1252":
        table = _cp1252_table()
        return lambda data, final: codecs.charmap_decode(data, "strict", table)[0]
    return codecs.getincrementaldecoder(codec)(errors="strict").decode


@cache
def _cp1252_table() -> str:
    return "".join(
        bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in range(256)
    )


def transcode(job: Job, raw: Path, encoding: Encoding) -> Path:
    """Stream ``raw`` into a UTF-8 scratch file, the only encoding DuckDB reads at full speed."""
    target = job.scratch(".csv")
    decode = _decoder(encoding.codec)
    with raw.open("rb") as source, target.open("wb") as sink:
        source.seek(encoding.bom)
        try:
            while chunk := source.read(CHUNK):
                sink.write(decode(chunk, False).encode("utf-8"))
            sink.write(decode(b"", True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            sink.flush()
            raise Invalid(_decode_problem(target, exc, encoding)) from None
    return target


def _decode_problem(written: Path, exc: UnicodeDecodeError, encoding: Encoding) -> str:
    """Locate a bad byte: lines already written, plus the lines in the chunk before the byte."""
    with written.open("rb") as file:
        lines_before = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(CHUNK), b""))
    prefix = exc.object[: exc.start].decode(encoding.codec, errors="replace")
    line = lines_before + prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return invalid_bytes("Line", line, exc.object[exc.start], column, encoding)
