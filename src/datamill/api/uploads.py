"""Streaming ``multipart/form-data`` uploads straight to a temporary file.

FastAPI's ``UploadFile`` would parse the whole request before the route runs and knows nothing of
our size limit; here the body is parsed as it arrives, the file part goes to disk chunk by chunk,
and the request is cut off the moment it passes the limit, leaving nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from datamill.api.multipart import PartHeaders
from datamill.problems import Invalid, PayloadTooLarge, Problem, field_error
from datamill.storage.files import remove_quietly, temp_path

MAX_FIELD_BYTES = 64 * 1024
MAX_FORM_BYTES = 256 * 1024  # all the small fields together
MAX_PARTS = 16
MAX_BOUNDARY = 70
FILE_FIELD = "file"
FIELDS = frozenset({"name", "delimiter", "header", "encoding", "sheet"})


@dataclass
class Upload:
    """The parsed form: the file on disk, its client-side name, and the small text fields."""

    path: Path
    filename: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        remove_quietly(self.path)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


class _Receiver(PartHeaders):
    """Callbacks for python-multipart: route each part's bytes to the file or a small buffer."""

    def __init__(self, target: Path, max_bytes: int) -> None:
        super().__init__(MAX_PARTS)
        self.target = target
        self.max_bytes = max_bytes
        self.handle = target.open("wb")
        self.part = _Part()
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_size = 0
        self.parts = 0
        self.form_bytes = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            **self.header_callbacks(),
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.begin_part()
        self.part = _Part()

    def on_headers_finished(self) -> None:
        self.part.name, filename = self.disposition()
        if filename is not None:
            self.part.filename = filename

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        self.part.size += len(chunk)
        if self.part.name == FILE_FIELD and self.part.filename is not None:
            if self.part.size > self.max_bytes:
                raise _TooLarge
            self.handle.write(chunk)
        else:
            self.form_bytes += len(chunk)
            if self.part.size > MAX_FIELD_BYTES or self.form_bytes > MAX_FORM_BYTES:
                raise Invalid(f"The form field {self.part.name!r} is too long.")
            if self.part.name in FIELDS:  # fields nobody reads are not kept
                self.part.chunks.append(chunk)

    def on_part_end(self) -> None:
        if self.part.name == FILE_FIELD and self.part.filename is not None:
            if self.filename is not None:
                raise Invalid("Send one file per upload.")
            self.filename = self.part.filename
            self.file_size = self.part.size
        elif self.part.name in FIELDS:
            self.fields[self.part.name] = b"".join(self.part.chunks).decode("utf-8", "replace")


class _TooLarge(Exception):
    pass


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise Invalid(
            "Send the file as multipart/form-data with a part named 'file'.",
            errors=[field_error(["body", FILE_FIELD], "multipart/form-data expected")],
        )
    boundary = options[b"boundary"]
    if not 1 <= len(boundary) <= MAX_BOUNDARY:
        raise Invalid(f"The multipart boundary must be 1 to {MAX_BOUNDARY} characters (RFC 2046).")
    return boundary


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than the upload limit of {_human(max_bytes)}.",
    )


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


async def receive_upload(request: Request, tmp_dir: Path, max_bytes: int) -> Upload:
    """Parse the request body into an :class:`Upload`; on any error the temp file is removed."""
    boundary = _boundary(request)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MAX_FORM_BYTES:
        raise _too_large(max_bytes)
    target = temp_path(tmp_dir, ".upload")
    receiver: _Receiver | None = None
    try:
        receiver = _Receiver(target, max_bytes)
        parser = MultipartParser(boundary, receiver.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        receiver.handle.close()
        if receiver.filename is None:
            raise Invalid(
                "The upload has no file: send it in a form part named 'file'.",
                errors=[field_error(["body", FILE_FIELD], "field required")],
            )
        return Upload(target, receiver.filename, receiver.file_size, receiver.fields)
    except BaseException as error:
        if receiver is not None:
            receiver.handle.close()
        remove_quietly(target)
        raise _as_problem(error, max_bytes) from None


def _as_problem(error: BaseException, max_bytes: int) -> BaseException:
    """The error to answer with: parser failures in words, everything else unchanged."""
    if isinstance(error, _TooLarge):
        return _too_large(max_bytes)
    if isinstance(error, (MultipartParseError, FormParserError)):
        return Invalid(f"The multipart body is malformed: {error}.")
    if isinstance(error, ClientDisconnect):
        return Problem("The client closed the connection before the upload finished.")
    return error
