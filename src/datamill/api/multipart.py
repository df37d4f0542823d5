"""What both streamed forms (dataset uploads, run submissions) share: part headers.

python-multipart calls the header callbacks once per piece of a header that arrives split
across network reads, so the pieces are gathered and a header is stored only at its end (as
Starlette's own parser does); a receiver that kept only the last piece lost names and filenames
depending on where the reads happened to split the body.
"""

from __future__ import annotations

from typing import Any

from python_multipart.multipart import parse_options_header

from datamill.problems import Invalid


class PartHeaders:
    """Counts parts and gathers each part's headers; :meth:`disposition` reads them."""

    def __init__(self, max_parts: int) -> None:
        self.max_parts = max_parts
        self.parts = 0
        self.headers: dict[str, bytes] = {}
        self.header_field = b""
        self.header_value = b""

    def header_callbacks(self) -> dict[str, Any]:
        return {
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
        }

    def begin_part(self) -> None:
        """A new part: refused past ``max_parts``; its headers start empty."""
        self.parts += 1
        if self.parts > self.max_parts:
            raise Invalid(f"The form has more than {self.max_parts} parts.")
        self.headers = {}
        self.header_field, self.header_value = b"", b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower().decode("latin-1")] = self.header_value
        self.header_field, self.header_value = b"", b""

    def disposition(self) -> tuple[str, str | None]:
        """The part's name and filename (None for a plain field), from its headers."""
        _, options = parse_options_header(self.headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        return name, None if raw is None else raw.decode("utf-8", "replace")
