"""Guess how a text table was written: its encoding, delimiter, header and column names.

Everything here looks at a bounded sample (:data:`SAMPLE_BYTES` from the start of the file), never
the whole file: ingest hands the whole file to DuckDB with the dialect found here spelled out, so
DuckDB's own sniffer never guesses the dialect (it silently skips lines it does not like).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from datamill.problems import Invalid

SAMPLE_BYTES = 64 * 1024
SNIFF_LINES = 100
DELIMITERS = (",", ";", "\t", "|")

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)
# The encodings a user may name, by the canonical name ``codecs.lookup`` gives: Python's standard
# text encodings. Python registers other codecs too, and none of them is how a file is written:
# bytes-to-bytes transforms (base64, hex, zlib, bz2, uu, quopri), rot13, and idna, punycode,
# unicode-escape, raw-unicode-escape, charmap and undefined; naming one must not reach a decoder.
TEXT_ENCODINGS = frozenset({
    "ascii", "utf-8", "utf-8-sig", "utf-7", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
    "utf-32-le", "utf-32-be",
    "iso8859-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7",
    "iso8859-8", "iso8859-9", "iso8859-10", "iso8859-11", "iso8859-13", "iso8859-14", "iso8859-15",
    "iso8859-16",
    "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "cp037", "cp273", "cp424", "cp437", "cp500", "cp720", "cp737", "cp775", "cp850", "cp852",
    "cp855", "cp856", "cp857", "cp858", "cp860", "cp861", "cp862", "cp863", "cp864", "cp865",
    "cp866", "cp869", "cp874", "cp875", "cp932", "cp949", "cp950", "cp1006", "cp1026", "cp1125",
    "cp1140",
    "mac-arabic", "mac-croatian", "mac-cyrillic", "mac-farsi", "mac-greek", "mac-iceland",
    "mac-latin2", "mac-roman", "mac-romanian", "mac-turkish",
    "koi8-r", "koi8-t", "koi8-u", "kz1048", "ptcp154", "hp-roman8", "tis-620", "palmos",
    "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004", "euc_jisx0213",
    "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3",
    "iso2022_jp_ext", "iso2022_kr", "euc_kr", "johab",
    "gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs",
})  # fmt: skip
_TRY_ENCODINGS = "try utf-8, utf-16, cp1252 or latin-1"
# Bytes that never appear in text: C0 controls other than tab, newline, form feed, carriage return.
_CONTROL_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13}) | {127}
_CONTROL_SHARE = 0.05


@dataclass(frozen=True)
class Encoding:
    """How to decode a file: ``name`` decodes it whole; ``codec`` decodes it after ``bom`` bytes.

    Keeping the byte-order mark apart lets a decoder restart anywhere in the file (to locate an
    invalid byte) without a stateful BOM-reading codec.
    """

    name: str
    codec: str
    bom: int = 0

    @property
    def is_utf8(self) -> bool:
        return self.codec == "utf-8"


UTF8 = Encoding("utf-8", "utf-8")
CP1252 = Encoding("cp1252", "cp1252")


def detect_encoding(sample: bytes, *, complete: bool) -> Encoding:
    """A file's encoding from its first bytes: a BOM, UTF-16 NUL patterns, UTF-8, else 8-bit."""
    for bom, name, codec in _BOMS:
        if sample.startswith(bom):
            return Encoding(name, codec, len(bom))
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        return Encoding(utf16, utf16)
    if _is_utf8(sample, complete=complete):
        return UTF8
    # Windows-1252 is Latin-1 with printable characters (€, curly quotes) where Latin-1 has unused
    # control codes; ingest reads its five undefined bytes as Latin-1, so it never fails.
    return CP1252


def named_encoding(name: str, sample: bytes) -> Encoding:
    """The encoding a user named; a BOM of that same encoding is still skipped, not read as text."""
    codec = _text_codec(name)
    family = codec.removesuffix("-sig")
    for bom, bom_name, bom_codec in _BOMS:
        if sample.startswith(bom) and family in {bom_name.removesuffix("-sig"), bom_codec}:
            return Encoding(bom_name, bom_codec, len(bom))
    if family in {"utf-16", "utf-32"}:
        # Without a BOM the byte order is a guess; UTF-16 files in the wild are mostly LE.
        guess = _utf16_without_bom(sample) if family == "utf-16" else None
        return Encoding(family, guess or f"{family}-le")
    return Encoding(codec, "utf-8" if family == "utf-8" else codec)


def _text_codec(name: str) -> str:
    """The canonical name of the text encoding a user named; any other name is refused by name."""
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL or a lone surrogate in the name
        raise Invalid(f'"{name}" is not an encoding Datamill knows; {_TRY_ENCODINGS}.') from None
    if codec not in TEXT_ENCODINGS:
        raise Invalid(
            f'"{name}" is not a text encoding, so a file cannot be read with it; {_TRY_ENCODINGS}.'
        )
    return codec


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text that is mostly ASCII has a NUL in every other byte; 8-bit text has none."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nuls = sample[0 : pairs * 2 : 2].count(0) / pairs
    odd_nuls = sample[1 : pairs * 2 : 2].count(0) / pairs
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _is_utf8(sample: bytes, *, complete: bool) -> bool:
    """Valid UTF-8, forgiving one multibyte character cut in two by the end of the sample."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_at_end = exc.reason == "unexpected end of data" and exc.end == len(sample)
        return cut_at_end and not complete and len(sample) - exc.start < 4
    return True


def check_text(sample: bytes, encoding: Encoding) -> None:
    """Refuse a sample that is binary: a spreadsheet, an image or a program renamed to .csv."""
    if encoding.codec.startswith(("utf-16", "utf-32")):
        text = sample[encoding.bom :].decode(encoding.codec, errors="replace")
        controls = sum(1 for char in text if ord(char) in _CONTROL_BYTES)
        share, has_nul = controls / max(len(text), 1), "\x00" in text
    else:
        controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
        share, has_nul = controls / max(len(sample), 1), 0 in sample
    if has_nul or share > _CONTROL_SHARE:
        raise Invalid(
            "The file does not look like a text file: it contains binary data "
            "(NUL bytes or control characters). Upload CSV, TSV, Excel (.xlsx), JSON or Parquet."
        )


def decode_sample(sample: bytes, encoding: Encoding, *, complete: bool) -> str:
    """The sample as text, without its BOM and, when the file goes on, without its cut last line."""
    body = sample[encoding.bom :]
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
    text = decoder.decode(body, final=complete)
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def parse_rows(text: str, delimiter: str, *, complete: bool = True) -> list[list[str]]:
    """Up to :data:`SNIFF_LINES` non-blank rows of the sample, parsed as RFC 4180 CSV."""
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))  # a first line may be up to the ingest line limit
    lines = io.StringIO(text, newline=None)  # universal newlines: old Mac files end lines in \r
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) > SNIFF_LINES:
                break
    except csv.Error:
        pass
    if not complete and len(rows) > 1:
        rows.pop()  # may be a record whose quoted field runs past the end of the sample
    return rows[:SNIFF_LINES]


def detect_delimiter(text: str, candidates: Sequence[str] = DELIMITERS) -> str:
    """The candidate that splits the sample into the most consistent number of fields (> 1).

    Consistency (the share of rows with the most common field count) comes first, then the number
    of fields, then the order of ``candidates``. A file no candidate splits is one column: ``,``.
    """
    best: tuple[float, int, int] | None = None
    chosen = candidates[0]
    for order, delimiter in enumerate(candidates):
        counts = Counter(len(row) for row in parse_rows(text, delimiter))
        if not counts:
            continue
        width, rows = counts.most_common(1)[0]
        if width < 2:
            continue
        score = (rows / sum(counts.values()), width, -order)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bool", re.compile(r"(?i)true|false")),
    ("int", re.compile(r"[+-]?\d+")),
    ("float", re.compile(r"(?i)[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|[+-]?(nan|inf|infinity)")),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}")),
    (
        "timestamp",
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
    ),
)
_WIDER = {"int": "float", "date": "timestamp"}


def value_kind(value: str) -> str | None:
    """The type a cell's text looks like, or None for an empty cell."""
    value = value.strip()
    if not value:
        return None
    for kind, pattern in _KINDS:
        if pattern.fullmatch(value):
            return kind
    return "text"


def _column_kind(values: Sequence[str]) -> str | None:
    """The one type all non-empty values share (ints widen to floats, dates to timestamps)."""
    kinds = {kind for kind in map(value_kind, values) if kind is not None}
    if len(kinds) > 1:
        kinds = {_WIDER.get(kind, kind) for kind in kinds}
    if len(kinds) > 1:
        return "text"
    return next(iter(kinds), None)


def detect_header(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first row names the columns.

    It is data only when every typed column (numbers, booleans, dates below it) also holds a value
    of that type, or nothing, in the first row. When nothing below is typed we cannot tell, and a
    header is by far the more common case.
    """
    if len(rows) < 2:
        return True
    first, body = rows[0], rows[1:]
    typed = False
    for index, cell in enumerate(first):
        kind = _column_kind([row[index] for row in body if index < len(row)])
        if kind is None or kind == "text":
            continue
        typed = True
        own = value_kind(cell)
        if own is not None and _WIDER.get(own, own) != _WIDER.get(kind, kind):
            return True
    return not typed


def default_names(width: int) -> list[str]:
    """Names for a file without a header: ``column_1`` ... ``column_<width>``."""
    return [f"column_{position}" for position in range(1, width + 1)]


def clean_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Unique, non-empty, stripped column names, and one warning sentence per rename.

    Uniqueness ignores case because DuckDB (and SQL generally) does.
    """
    cleaned: list[str] = []
    warnings: list[str] = []
    taken: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = raw.strip()
        if not name:
            name = f"column_{position}"
            warnings.append(f'Column {position} had no name; it is called "{name}".')
        elif name != raw:
            warnings.append(f'Column {position} had spaces around its name; it is called "{name}".')
        if name.lower() in taken:
            unique = _next_free(name, taken)
            warnings.append(
                f'Column {position} repeats the name "{name}"; it is called "{unique}".'
            )
            name = unique
        taken.add(name.lower())
        cleaned.append(name)
    return cleaned, warnings


def _next_free(name: str, taken: set[str]) -> str:
    suffix = 2
    while f"{name}_{suffix}".lower() in taken:
        suffix += 1
    return f"{name}_{suffix}"
