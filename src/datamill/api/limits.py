"""A cap on request bodies other than uploads.

JSON bodies are parsed whole in memory, so they are limited to ``MAX_JSON_BYTES``; multipart
uploads have their own streaming limit (``DATAMILL_MAX_UPLOAD_BYTES``) in ``uploads.py``.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datamill.problems import PROBLEM_JSON, PayloadTooLarge

MAX_JSON_BYTES = 1024 * 1024


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge("The request body is larger than 1 MB.")


class BodyLimit:
    """Refuse non-multipart bodies beyond the limit, declared or streamed.

    A declared length is answered here; a streamed body is cut off by raising inside ``receive``,
    which the app's Problem handler turns into the same 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            problem = _too_large()
            reply = JSONResponse(problem.body(), problem.status, media_type=PROBLEM_JSON)
            await reply(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _too_large()
            return message

        await self.app(scope, counting_receive, send)


def _is_multipart(scope: Scope) -> bool:
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.lower().startswith(b"multipart/form-data")
