"""The body of a run submission: JSON, or a multipart form streamed to temporary files.

A multipart submission carries ``params`` and ``inputs`` as JSON text fields (and optionally
``version``), and one file part per file or table input, named after the input. Each file goes
to disk chunk by chunk as it arrives, and the request is cut off the moment the files together
pass the upload limit; on any error every file written so far is removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from datamill.api.multipart import PartHeaders
from datamill.pipelines.names import IDENTIFIER
from datamill.problems import Invalid, PayloadTooLarge, Problem, field_error
from datamill.runs.inputs import UploadedFile
from datamill.runs.submission import RunRequest
from datamill.schemas.runs import RunCreate
from datamill.storage.files import remove_quietly, temp_path

MAX_FIELDS_BYTES = 1024 * 1024  # the JSON fields together, as for a JSON body
MAX_PARTS = 64
FIELDS = frozenset({"params", "inputs", "version"})


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def json_submission(body: bytes) -> RunRequest:
    """The run request a JSON body holds (an empty body asks for the defaults)."""
    try:
        document = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as error:
        raise Invalid(
            f"The body is not valid JSON: {error}.",
            errors=[field_error(["body"], "invalid JSON")],
        ) from None
    return _run_request(document, {})


def _run_request(document: Any, files: dict[str, UploadedFile]) -> RunRequest:
    try:
        parsed = RunCreate.model_validate(document)
    except ValidationError as error:
        errors = [field_error(list(e["loc"]), e["msg"]) for e in error.errors()]
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in errors)
        raise Invalid(f"Some fields are invalid: {where}.", errors=errors) from None
    return RunRequest(parsed.params, parsed.inputs or {}, files, parsed.version)


class _FormReceiver(PartHeaders):
    """python-multipart callbacks: file parts to their own temporary file, fields to memory."""

    def __init__(self, tmp_dir: Path, max_bytes: int) -> None:
        super().__init__(MAX_PARTS)
        self.tmp_dir = tmp_dir
        self.max_bytes = max_bytes
        self.file_bytes = 0
        self.field_bytes = 0
        self.name = ""
        self.filename: str | None = None
        self.handle: Any = None
        self.path: Path | None = None
        self.size = 0
        self.chunks: list[bytes] = []
        self.fields: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}

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
        self.chunks, self.size = [], 0

    def on_headers_finished(self) -> None:
        self.name, self.filename = self.disposition()
        if self.filename is None:
            return
        if not IDENTIFIER.fullmatch(self.name):
            raise Invalid(
                f"A file part must be named after an input, not {self.name!r}.",
                errors=[field_error(["inputs", self.name], "not an input name")],
            )
        if self.name in self.files:
            raise Invalid(
                f"The input {self.name!r} has more than one file part.",
                errors=[field_error(["inputs", self.name], "one file per input")],
            )
        self.path = temp_path(self.tmp_dir, ".upload")
        self.handle = self.path.open("wb")
        self.files[self.name] = UploadedFile(self.path, self.filename or self.name, 0)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        self.size += len(chunk)
        if self.filename is not None:
            self.file_bytes += len(chunk)
            if self.file_bytes > self.max_bytes:
                raise PayloadTooLarge(
                    f"The files are larger than the upload limit of {self.max_bytes} bytes."
                )
            self.handle.write(chunk)
            return
        self.field_bytes += len(chunk)
        if self.field_bytes > MAX_FIELDS_BYTES:
            raise Invalid(f"The form field {self.name!r} is too long.")
        if self.name in FIELDS:
            self.chunks.append(chunk)

    def on_part_end(self) -> None:
        if self.filename is not None:
            self.handle.close()
            self.handle = None
            upload = self.files[self.name]
            self.files[self.name] = UploadedFile(upload.path, upload.filename, self.size)
        elif self.name in FIELDS:
            self.fields[self.name] = b"".join(self.chunks).decode("utf-8", "replace")

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        for upload in self.files.values():
            remove_quietly(upload.path)


async def read_form_submission(request: Request, tmp_dir: Path, max_bytes: int) -> RunRequest:
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 70:
        raise Invalid("The multipart boundary must be 1 to 70 characters (RFC 2046).")
    receiver = _FormReceiver(tmp_dir, max_bytes)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        document = {name: _field_json(name, text) for name, text in receiver.fields.items()}
        return _run_request(document, receiver.files)
    except BaseException as error:
        receiver.discard()
        if isinstance(error, (MultipartParseError, FormParserError)):
            raise Invalid(f"The multipart body is malformed: {error}.") from None
        if isinstance(error, ClientDisconnect):
            raise Problem("The client closed the connection before the upload finished.") from None
        raise


def _field_json(name: str, text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Invalid(
            f"The form field {name!r} is not valid JSON.",
            errors=[field_error([name], "invalid JSON")],
        ) from None
