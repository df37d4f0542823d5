"""Which table format an uploaded file is in, from its name and its first bytes.

The extension is what the user meant; the first bytes are what the file is. A file whose name says
nothing useful is recognised by its content, and anything we cannot read is refused here with a
415 that lists what we can read, before any parser gets to produce a confusing error.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from datamill.datasets.sniff import SAMPLE_BYTES, check_text, detect_encoding
from datamill.problems import Invalid, Problem, UnsupportedMediaType

Format = Literal["csv", "tsv", "xlsx", "json", "parquet"]
SUPPORTED: tuple[Format, ...] = ("csv", "tsv", "xlsx", "json", "parquet")
SUPPORTED_TEXT = "CSV (.csv, .txt), TSV (.tsv, .tab), Excel (.xlsx), JSON (.json, .jsonl, .ndjson) "
SUPPORTED_TEXT += "or Parquet (.parquet, .pq)"

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_SAVE_AS_XLSX = "Open it in Excel or LibreOffice and save it as .xlsx (or .csv), then upload that."
_UNSUPPORTED: dict[str, str] = {
    ".xls": "Old Excel files (.xls) cannot be read. " + _SAVE_AS_XLSX,
    ".xlsm": "Macro-enabled workbooks (.xlsm) cannot be read. " + _SAVE_AS_XLSX,
    ".xlsb": "Binary workbooks (.xlsb) cannot be read. " + _SAVE_AS_XLSX,
    ".ods": "OpenDocument spreadsheets (.ods) cannot be read. " + _SAVE_AS_XLSX,
    ".numbers": "Numbers spreadsheets cannot be read. Export the table as .xlsx or .csv.",
    ".sav": "SPSS files cannot be read. Export the data as .csv or .parquet.",
    ".dta": "Stata files cannot be read. Export the data as .csv or .parquet.",
    ".sas7bdat": "SAS files cannot be read. Export the data as .csv or .parquet.",
    ".rds": "R data files cannot be read. Write the data frame as .csv or .parquet.",
    ".rdata": "R data files cannot be read. Write the data frame as .csv or .parquet.",
    ".feather": "Feather files cannot be read. Write the table as .parquet.",
    ".arrow": "Arrow IPC files cannot be read. Write the table as .parquet.",
    ".gz": "Compressed files cannot be read. Decompress the file and upload the table inside.",
    ".zip": "Zip archives cannot be read. Unpack the archive and upload the table inside.",
}
_GENERIC_BINARY = {
    ".exe", ".dll", ".so", ".dylib", ".bin", ".msi", ".dmg", ".iso", ".jar", ".class",
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg", ".ico", ".heic",
    ".pdf", ".doc", ".docx", ".ppt", ".pptx", ".odt", ".rtf", ".mp3", ".mp4", ".wav", ".avi",
    ".mov", ".bz2", ".xz", ".7z", ".tar", ".rar", ".db", ".sqlite", ".mdb", ".accdb", ".h5",
    ".hdf5", ".pkl", ".pickle", ".npy", ".npz", ".mat",
}  # fmt: skip
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _UNSUPPORTED[".xls"]),
    (b"\x1f\x8b", _UNSUPPORTED[".gz"]),
    (b"MZ", "It is a Windows program."),
    (b"\x7fELF", "It is a program."),
    (b"%PDF", "It is a PDF document."),
    (b"\x89PNG", "It is an image."),
    (b"\xff\xd8\xff", "It is an image."),
    (b"GIF8", "It is an image."),
)
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
_WORKBOOK = "xl/workbook.xml"


def unsupported(reason: str) -> UnsupportedMediaType:
    """A 415 that says why and lists what can be read."""
    return UnsupportedMediaType(f"{reason} Datamill reads {SUPPORTED_TEXT}.")


def extension(filename: str) -> str:
    """The lower-case extension of an uploaded name, wherever the browser's path separators were."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return Path(base).suffix.lower()


def detect_format(path: Path, filename: str) -> Format:
    """The format to read ``path`` as; ``filename`` is the name the user uploaded it under."""
    with path.open("rb") as file:
        head = file.read(SAMPLE_BYTES)
    suffix = extension(filename)
    if suffix in _EXTENSIONS:
        return _check_declared(path, _EXTENSIONS[suffix], head, filename)
    if suffix in _UNSUPPORTED:
        raise unsupported(f'"{filename}" is not a table Datamill can read. {_UNSUPPORTED[suffix]}')
    if suffix in _GENERIC_BINARY:
        raise unsupported(
            f'"{filename}" is not a table Datamill can read ({suffix} files are not).'
        )
    return _sniff_format(path, head, filename)


def _check_declared(path: Path, fmt: Format, head: bytes, filename: str) -> Format:
    """Binary formats must carry their signature; text formats are checked later, while read.

    A text extension on a file that carries a binary signature is a mislabelled upload: a real
    Parquet file or workbook is read as what it is, anything else we know is refused by name.
    """
    if fmt in {"csv", "tsv", "json"}:
        if head.startswith(_PARQUET):
            return "parquet"
        if head.startswith(_ZIP) and _is_workbook(path):
            return "xlsx"
        _refuse_known_binary(head, filename)
    if fmt == "xlsx" and not head.startswith(_ZIP):
        _refuse_known_binary(head, filename)
        raise Invalid(f'"{filename}" is not an Excel workbook: an .xlsx file is a zip archive.')
    if fmt == "parquet" and not head.startswith(_PARQUET):
        raise Invalid(f'"{filename}" is not a Parquet file: it does not start with "PAR1".')
    return fmt


def _sniff_format(path: Path, head: bytes, filename: str) -> Format:
    """Recognise a file by content alone: Parquet, a workbook, JSON, else text read as CSV."""
    if head.startswith(_PARQUET):
        return "parquet"
    if head.startswith(_ZIP):
        if _is_workbook(path):
            return "xlsx"
        raise unsupported(f'"{filename}" is a zip archive, not a table. {_UNSUPPORTED[".zip"]}')
    _refuse_known_binary(head, filename)
    encoding = detect_encoding(head, complete=len(head) < SAMPLE_BYTES)
    try:
        check_text(head, encoding)
    except Problem:
        raise unsupported(f'"{filename}" is binary data, not a table Datamill can read.') from None
    text = head[encoding.bom :].decode(encoding.codec, errors="replace").lstrip()
    return "json" if text.startswith(("[", "{")) else "csv"


def _refuse_known_binary(head: bytes, filename: str) -> None:
    for magic, reason in _MAGIC:
        if head.startswith(magic):
            raise unsupported(f'"{filename}" is not a table Datamill can read. {reason}')


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return _WORKBOOK in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
