"""Uploading a file to a running server over HTTP, streamed, with a progress bar.

Used by ``datamill dataset upload``; the multipart body is generated chunk by chunk so that a
file of any size is never held in memory.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

CHUNK = 1024 * 1024


class UploadFailed(Exception):
    """The server refused the upload or could not be reached; the message says why."""


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def _parts(boundary: str, file: Path, name: str | None) -> tuple[bytes, bytes]:
    head = b""
    if name:
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
        ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{_quote(file.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


def _body(head: bytes, file: Path, tail: bytes, progress: Progress, task: Any) -> Iterator[bytes]:
    yield head
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.update(task, advance=len(chunk))
            yield chunk
    yield tail


def problem_text(response: httpx.Response) -> str:
    """A problem+json reply in one line: its detail, then each field error it lists."""
    try:
        body = response.json()
        text = str(body.get("detail") or body.get("title"))
        errors = body.get("errors") or []
    except (json.JSONDecodeError, AttributeError):
        return f"the server answered {response.status_code} {response.reason_phrase}"
    fields = [
        f"{'.'.join(str(part) for part in error.get('loc', []))}: {error.get('msg')}"
        for error in errors
        if isinstance(error, dict)
    ]
    missing = [field for field in fields if field not in text]  # the detail may name the first
    return f"{text} {'; '.join(missing)}" if missing else text


def upload_file(url: str, token: str, file: Path, name: str | None) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    head, tail = _parts(boundary, file, name)
    size = file.stat().st_size
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail)),
    }
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress("[progress.description]{task.description}", *columns, transient=True) as progress:
        task = progress.add_task(f"uploading {file.name}", total=size)
        try:
            response = httpx.post(
                url.rstrip("/") + "/api/v1/datasets",
                content=_body(head, file, tail, progress, task),
                headers=headers,
                timeout=httpx.Timeout(30.0, read=None),
            )
        except httpx.HTTPError as error:
            raise UploadFailed(f"cannot reach {url}: {error}") from None
    if response.status_code != 201:
        raise UploadFailed(problem_text(response))
    result: dict[str, Any] = response.json()
    return result
