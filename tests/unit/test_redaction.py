"""API tokens never reach the server's logs."""

from __future__ import annotations

import logging

from datamill.redaction import TokenFilter


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)


def test_a_token_in_a_logged_websocket_path_is_masked() -> None:
    entry = record(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/api/v1/events?token=dm_s3cr3t"
    )

    assert TokenFilter().filter(entry)

    assert entry.getMessage() == '127.0.0.1:5 - "WebSocket /api/v1/events?token=***" [accepted]'


def test_a_token_among_other_query_parameters_is_masked_and_they_are_kept() -> None:
    entry = record("GET /api/v1/events?run=abc&token=dm_x1&types=run.updated")

    TokenFilter().filter(entry)

    assert entry.getMessage() == "GET /api/v1/events?run=abc&token=***&types=run.updated"
