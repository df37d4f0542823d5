"""The OpenAPI document as a file: the browser app's typed client is generated from it.

``python -m datamill.openapi > frontend/openapi.json`` (``make api-client``) rewrites it; a test
fails when the committed copy no longer matches the API, so the client cannot drift silently.
"""

from __future__ import annotations

import json
from typing import Any

from datamill.app import create_app
from datamill.config import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document the app serves at ``/api/openapi.json``."""
    return create_app(Settings()).openapi()


def render(doc: dict[str, Any]) -> str:
    """Stable text: sorted keys, so that a diff shows only what changed."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render(document()))
