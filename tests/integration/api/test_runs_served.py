"""Run submissions over a real HTTP server (uvicorn), where the network decides how the body
arrives and a blocked event loop stalls every other request."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datamill.context import AppContext
from datamill.runs.effects import Effect
from tests.fixtures.pipelines import post_spec
from tests.fixtures.runs import NOOP, NOOP_PIPELINE
from tests.fixtures.users import Account

ECHO_K = {
    "name": "echo-k",
    "kind": "command",
    "command": ["echo", "{params.k}"],
    "inputs": {"f": {"kind": "file"}},
    "params": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]},
}
ECHO_PIPELINE = {
    "name": "echo-k",
    "inputs": {"f": {"kind": "file"}},
    "params": {"k": {"type": "string", "default": "DEFAULT"}},
    "steps": {"s": {"task": "echo-k", "with": {"f": "${inputs.f}", "k": "${params.k}"}}},
}
BODY = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="params"\r\n\r\n'
    b'{"k": "from-the-caller"}\r\n'
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n'
    b"hello\r\n"
    b"--XX--\r\n"
)


@pytest.fixture
def served(app: FastAPI, client: TestClient) -> Iterator[str]:
    """The test's app (its lifespan run by ``client``) also served by uvicorn; the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def chief(admin: Account, admin_client: TestClient) -> Account:
    """An admin (not limited by fair use), and the echo-k and no-op pipelines."""
    for task in (ECHO_K, NOOP):
        post_spec(admin_client, "/api/v1/tasks", task)
    for pipeline in (ECHO_PIPELINE, NOOP_PIPELINE):
        post_spec(admin_client, "/api/v1/pipelines", pipeline)
    return admin


def post_in_two_pieces(base: str, token: str, cut: int) -> tuple[int, bytes]:
    """POST the form in two TCP sends with a pause between, so the server reads them apart."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        "POST /api/v1/pipelines/echo-k/runs HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: multipart/form-data; boundary=XX\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(head + BODY[:cut])
        time.sleep(0.01)
        conn.sendall(BODY[cut:])
        reply = b""
        while data := conn.recv(65536):
            reply += data
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_a_form_split_anywhere_by_the_network_keeps_its_params_and_file(
    served: str, chief: Account
) -> None:
    headers = {"Authorization": f"Bearer {chief.token}"}
    with httpx.Client(base_url=served, headers=headers) as http:
        for cut in range(1, len(BODY)):
            status, reply = post_in_two_pieces(served, chief.token, cut)
            assert status == 202, (cut, reply)
            run_id = json.loads(reply)["run_id"]
            run = http.get(f"/api/v1/runs/{run_id}").json()
            assert run["params"] == {"k": "from-the-caller"}, cut
            assert run["inputs"] == {"f": f"inputs/{run_id}/f.txt"}, cut


def test_a_slow_delivery_does_not_stall_other_requests(
    served: str,
    chief: Account,
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Delivery (a broker send, a Redis publish) is held until the server has answered another
    request: on the event loop it would hold that request too."""
    real = ctx.deliver
    assert real is not None
    delivering, answered = threading.Event(), threading.Event()

    def held(run_id: str, effects: Sequence[Effect]) -> None:
        delivering.set()
        answered.wait(5)
        real(run_id, effects)

    monkeypatch.setattr(ctx, "deliver", held)
    headers = {"Authorization": f"Bearer {chief.token}"}
    replies: list[httpx.Response] = []

    def submit() -> None:
        with httpx.Client(base_url=served, headers=headers, timeout=30) as http:
            replies.append(http.post("/api/v1/pipelines/nothing/runs", json={}))

    submitter = threading.Thread(target=submit)
    submitter.start()
    assert delivering.wait(10)
    started = time.monotonic()
    health = httpx.get(f"{served}/api/v1/health", timeout=30)
    waited = time.monotonic() - started
    answered.set()
    submitter.join(30)
    assert health.status_code == 200
    assert waited < 2, f"the health check waited {waited:.1f} s for a delivery"
    (reply,) = replies
    assert reply.status_code == 202, reply.text
