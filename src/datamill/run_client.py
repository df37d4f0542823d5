"""Running a pipeline on a server from the command line, and watching runs live.

Used by ``datamill run`` and ``datamill runs``: the same REST API and WebSocket the browser uses.
Events are the fast path; the run's state is read over REST when the socket connects (events
sent before that are not missed) and whenever the socket is lost (watching falls back to polling).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from datamill.upload_client import problem_text

FINISHED = {"succeeded", "failed", "cancelled"}
STATE_STYLES = {
    "queued": "dim",
    "running": "bold cyan",
    "succeeded": "green",
    "failed": "bold red",
    "upstream_failed": "red",
    "cancelled": "yellow",
}
POLL_SECONDS = 0.5
QUIET_SECONDS = 1.0
REFRESH_ON = {"subscribed", "quiet", "run.updated", "step.updated"}
"""Events after which ``watch`` reads the run again."""
STORED_PREFIXES = ("work/", "inputs/", "revisions/")
"""How stored file values begin: shown as artifacts, not as paths of the server's disk."""


class RunFailed(Exception):
    """The server refused a request or could not be reached; the message says why."""


@dataclass
class Api:
    """The REST API of one server, as one user (an API token)."""

    url: str
    token: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=httpx.Timeout(30.0, read=None),
        )

    def request(self, method: str, path: str, expect: int = 200, **options: Any) -> Any:
        try:
            response = self.client.request(method, path, **options)
        except httpx.HTTPError as error:
            raise RunFailed(f"cannot reach {self.url}: {error}") from None
        if response.status_code != expect:
            raise RunFailed(problem_text(response))
        return response.json()

    def events_url(self, run_id: str) -> str:
        scheme, _, rest = self.url.partition("://")
        socket_scheme = "wss" if scheme == "https" else "ws"
        return f"{socket_scheme}://{rest}/api/v1/events?run={run_id}"

    def close(self) -> None:
        self.client.close()


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; a ``ValueError`` naming the bad item otherwise."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"{what} {pair!r} is not NAME=VALUE")
        found[name] = value
    return found


def param_value(text: str) -> Any:
    """A parameter as typed on the command line: JSON when it parses (3, true, [1,2]), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def dataset_id(api: Api, reference: str) -> str:
    """The id of the dataset ``reference`` names: its id, or its name (exact, any case)."""
    from datamill.db.models import looks_like_id

    if looks_like_id(reference):
        return reference
    reply = api.request("GET", "/api/v1/datasets", params={"q": reference, "limit": 200})
    found = [d for d in reply["data"] if d["name"].casefold() == reference.casefold()]
    if not found:
        raise RunFailed(f"no dataset you can read is named {reference!r}")
    if len(found) > 1:
        ids = ", ".join(d["id"] for d in found)
        raise RunFailed(f"{len(found)} datasets are named {reference!r}; give one id: {ids}")
    return str(found[0]["id"])


def submit(
    api: Api, pipeline: str, params: Mapping[str, str], inputs: Mapping[str, str]
) -> dict[str, Any]:
    """Submit a run: ``inputs`` values are file paths, or ``dataset:<id or name>``."""
    values = {name: param_value(text) for name, text in params.items()}
    references = {
        name: {"dataset": dataset_id(api, text.removeprefix("dataset:"))}
        for name, text in inputs.items()
        if text.startswith("dataset:")
    }
    files = {name: Path(text) for name, text in inputs.items() if name not in references}
    for name, file in files.items():
        if not file.is_file():
            raise ValueError(f"input {name}: no file {file}")
    path = f"/api/v1/pipelines/{pipeline}/runs"
    if not files:
        body = {"params": values, "inputs": references}
        reply: dict[str, Any] = api.request("POST", path, 202, json=body)
        return reply
    with ExitStack() as stack:
        parts: dict[str, tuple[str, IO[bytes], str]] = {
            name: (file.name, stack.enter_context(file.open("rb")), "application/octet-stream")
            for name, file in files.items()
        }
        form = {"params": json.dumps(values), "inputs": json.dumps(references)}
        reply = api.request("POST", path, 202, data=form, files=parts)
    return reply


def run_events(api: Api, run_id: str) -> Iterator[dict[str, Any]]:
    """The run's events as they come, and a ``quiet`` one after each second without any (a
    cue to look at the run over REST); ends, quietly, when the socket cannot be used."""
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    headers = {"Authorization": f"Bearer {api.token}"}
    try:
        with connect(api.events_url(run_id), additional_headers=headers, open_timeout=5) as socket:
            while True:
                try:
                    raw = socket.recv(timeout=QUIET_SECONDS)
                except TimeoutError:
                    yield {"type": "quiet"}
                    continue
                yield json.loads(raw)
    except (OSError, WebSocketException, ValueError):
        return


def watch(api: Api, run_id: str, on_change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Follow the run until it finishes, calling ``on_change`` with its detail on every change.

    The run is read again when the subscription is confirmed (what happened before it is not
    sent as events), on each of its events, and after each quiet second (a safety net: an
    event lost on the way must not leave the command waiting for ever).
    """
    run: dict[str, Any] = api.request("GET", f"/api/v1/runs/{run_id}")
    on_change(run)
    for event in run_events(api, run_id):
        if run["state"] in FINISHED:
            return run
        if event.get("type") in REFRESH_ON:
            latest = api.request("GET", f"/api/v1/runs/{run_id}")
            if latest != run:
                run = latest
                on_change(run)
    while run["state"] not in FINISHED:  # no socket: poll
        time.sleep(POLL_SECONDS)
        latest = api.request("GET", f"/api/v1/runs/{run_id}")
        if latest != run:
            run = latest
            on_change(run)
    return run


def steps_table(run: Mapping[str, Any]) -> Table:
    """The run's steps as the live display shows them."""
    what = run["pipeline"] or "operations"  # a run of cleaning operations has no pipeline
    table = Table(title=f"{what} run {run['id']}: {styled(run['state'])}")
    for column in ("step", "task", "state", "attempt", "worker", "time"):
        table.add_column(column)
    for step in run["steps"]:
        worker = step.get("worker") or {}
        table.add_row(
            step["name"],
            step["task"],
            styled(step["state"]),
            f"{step['attempt']}/{step['max_attempts']}" if step["attempt"] else "",
            f"{worker.get('hostname', '')}:{worker.get('pid', '')}" if worker else "",
            duration(step.get("started_at"), step.get("finished_at")),
        )
    return table


def styled(state: str) -> str:
    style = STATE_STYLES.get(state, "")
    return f"[{style}]{state}[/]" if style else state


def duration(started: str | None, finished: str | None) -> str:
    from datetime import UTC, datetime

    if not started:
        return ""
    begin = datetime.fromisoformat(started.replace("Z", "+00:00"))
    end = datetime.fromisoformat(finished.replace("Z", "+00:00")) if finished else datetime.now(UTC)
    return f"{(end - begin).total_seconds():.1f} s"


def run_and_watch(api: Api, run_id: str, console: Console) -> dict[str, Any]:
    """Watch a run with a live table of its steps; the final run detail."""
    live = Live(console=console, auto_refresh=False, transient=not console.is_terminal)
    with live:

        def show(run: dict[str, Any]) -> None:
            live.update(steps_table(run), refresh=True)

        run = watch(api, run_id, show)
    if not console.is_terminal:
        console.print(steps_table(run))
    return run


def summary(run: Mapping[str, Any]) -> list[str]:
    """What to tell after a run: its outcome, outputs or the reason it failed."""
    lines = [f"run {run['id']} {run['state']}"]
    if run.get("error"):
        lines.append(f"reason: {run['error']}")
    for name, value in (run.get("outputs") or {}).items():
        if not (isinstance(value, str) and value.startswith(STORED_PREFIXES)):
            lines.append(f"output {name}: {json.dumps(value)}")
    artifacts = run.get("artifacts") or []
    for artifact in artifacts:
        lines.append(
            f"artifact {artifact['step']}.{artifact['name']} ({artifact['kind']}, "
            f"{artifact['size_bytes']:,} bytes)"
        )
    if artifacts:
        first = artifacts[0]
        lines.append(
            f"download one: datamill runs download {run['id']} {first['step']}.{first['name']}"
        )
    return lines


def find_artifact(run: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """The artifact ``STEP.NAME`` (or id) of ``run``."""
    for artifact in run.get("artifacts") or []:
        if reference in (artifact["id"], f"{artifact['step']}.{artifact['name']}"):
            return dict(artifact)
    names = ", ".join(f"{a['step']}.{a['name']}" for a in run.get("artifacts") or []) or "none"
    raise RunFailed(f"run {run['id']} has no artifact {reference!r} (it has: {names})")


def download(api: Api, run_id: str, artifact: Mapping[str, Any], target: Path | None) -> Path:
    """Save an artifact (written whole or not at all) to ``target``, by default under the name
    the server gives it in this directory; where it went."""
    path = f"/api/v1/runs/{run_id}/artifacts/{artifact['id']}"
    try:
        with api.client.stream("GET", path) as response:
            if response.status_code != 200:
                response.read()
                raise RunFailed(problem_text(response))
            target = target or Path(attachment_name(response) or str(artifact["id"]))
            partial = target.with_name(f".{target.name}.part")
            try:
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
    except httpx.HTTPError as error:
        raise RunFailed(f"cannot reach {api.url}: {error}") from None
    return target


def attachment_name(response: httpx.Response) -> str | None:
    """The file name a download's ``Content-Disposition`` suggests, without any directory."""
    from email.message import Message

    header = response.headers.get("content-disposition")
    if not header:
        return None
    message = Message()
    message["content-disposition"] = header
    name = message.get_filename()
    return Path(name).name if name else None


def list_runs(api: Api, filters: Mapping[str, str | None], limit: int) -> dict[str, Any]:
    query = {key: value for key, value in filters.items() if value}
    reply: dict[str, Any] = api.request("GET", "/api/v1/runs", params={**query, "limit": limit})
    return reply


def runs_table(runs: Sequence[Mapping[str, Any]]) -> Table:
    table = Table()
    table.add_column("id", min_width=36, no_wrap=True)
    for column in ("pipeline", "version", "owner", "state"):
        table.add_column(column)
    table.add_column("created", no_wrap=True)
    table.add_column("time", no_wrap=True)
    for run in runs:
        table.add_row(
            run["id"],
            run["pipeline"],
            str(run["version"]),
            run["owner"],
            styled(run["state"]),
            run["created_at"][:19].replace("T", " "),
            duration(run.get("started_at"), run.get("finished_at")),
        )
    return table


def print_log(api: Api, run_id: str, step: str, follow: bool, out: IO[str]) -> None:
    """A step's log, followed while the step runs."""
    path = f"/api/v1/runs/{run_id}/steps/{step}/log"
    try:
        with api.client.stream("GET", path, params={"follow": str(follow).lower()}) as response:
            if response.status_code != 200:
                response.read()
                raise RunFailed(problem_text(response))
            written = False
            for text in response.iter_text():
                out.write(text)
                out.flush()
                written = written or bool(text)
    except httpx.HTTPError as error:
        raise RunFailed(f"cannot reach {api.url}: {error}") from None
    if not written:
        sys.stderr.write(f"(the log of {step} is empty: the step printed nothing)\n")


@contextlib.contextmanager
def api_for(url: str, token: str) -> Iterator[Api]:
    api = Api(url, token)
    try:
        yield api
    finally:
        api.close()
