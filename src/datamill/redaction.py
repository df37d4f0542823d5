"""Keeping API tokens out of logs.

Browsers cannot set headers on a WebSocket, so ``/api/v1/events?token=...`` is allowed, and
uvicorn logs the path of every WebSocket it accepts, query string included. A filter on the
server's loggers masks the value before any handler sees it.
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"']+")
MASK = r"\1***"
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


class TokenFilter(logging.Filter):
    """Masks ``token=...`` in a record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = TOKEN_IN_QUERY.sub(MASK, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_QUERY.sub(MASK, arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install() -> None:
    """Mask tokens in what the web server logs (idempotent)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, TokenFilter) for existing in logger.filters):
            logger.addFilter(TokenFilter())
