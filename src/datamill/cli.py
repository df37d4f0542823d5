"""The ``datamill`` command line.

Errors are one line on stderr and a non-zero exit; passwords come from a prompt or stdin, never
from the command line (where ``ps`` and shell history would show them).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

import click
from sqlalchemy.orm import Session

from datamill import __version__
from datamill.config import Settings

P = ParamSpec("P")
R = TypeVar("R")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can cause into one readable line instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from pydantic import ValidationError

        from datamill.problems import Problem

        try:
            return func(*args, **kwargs)
        except Problem as problem:
            _fail(problem.detail)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            _fail(f"invalid setting {where}: {first['msg']}")
        except (OSError, ValueError) as error:
            _fail(str(error))
        raise AssertionError("unreachable")

    return wrapper


def _settings() -> Settings:
    return Settings()


def _hide_password(url: str) -> str:
    """``url`` as it may be printed: without the password of its user."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _token() -> str:
    """The API token: DATAMILL_TOKEN, or asked for; never an argument, which others could read."""
    token = os.environ.get("DATAMILL_TOKEN") or ""
    if not token and sys.stdin.isatty():
        token = click.prompt("API token", hide_input=True)
    if not token:
        _fail("an API token is needed: set DATAMILL_TOKEN (datamill token create USER makes one)")
    return token


@contextmanager
def _database(settings: Settings) -> Iterator[Session]:
    """A session on an up-to-date database; commits on success."""
    from datamill.db.engine import make_engine, make_session_factory
    from datamill.db.migrate import upgrade

    engine = make_engine(settings)
    upgrade(settings, engine)
    try:
        with make_session_factory(engine)() as db:
            yield db
            db.commit()
    finally:
        engine.dispose()


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("no password on standard input")
        return password
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="datamill")
def main() -> None:
    """Datamill: upload, explore and clean datasets; run pipelines as web services.

    Settings come from DATAMILL_* environment variables (see docs/settings.md).
    """


@main.command()
@click.option("--host", help="Address to listen on (default: DATAMILL_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: DATAMILL_PORT or 8000).")
@click.option(
    "--workers",
    type=click.IntRange(0, 256),
    help="Local worker processes running pipeline steps (default: DATAMILL_WORKERS or 2).",
)
@friendly_errors
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web app and API, and the local worker pool."""
    import uvicorn

    from datamill.app import create_app

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    if workers is not None:
        settings.workers = workers
    shown = "localhost" if settings.host in {"127.0.0.1", "0.0.0.0"} else settings.host  # noqa: S104
    click.echo(f"Datamill {__version__} is running at http://{shown}:{settings.port}/")
    click.echo(f"API documentation: http://{shown}:{settings.port}/api/docs")
    click.echo(f"Data directory: {settings.data_dir}")
    if settings.executor == "local":
        click.echo(f"Local worker pool: {settings.workers} processes")
    else:
        click.echo(f"Executor: Celery on {_hide_password(settings.broker_url or '')}")
    # Events are small JSON messages: compressing each costs the server (and every client) more
    # CPU and memory per connection than it saves on the wire.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        ws_per_message_deflate=False,
    )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply every pending migration."""
    from datamill.db.migrate import upgrade

    settings = _settings()
    upgrade(settings)
    click.echo(f"database is up to date ({settings.resolved_database_url.split('://')[0]})")


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the administrator role.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def user_create(username: str, admin: bool, password_stdin: bool) -> None:
    """Create a user; the password is asked for (or read from stdin)."""
    from datamill.auth.users import check_username, create_user

    check_username(username)
    password = _read_password(password_stdin)
    with _database(_settings()) as session:
        create_user(session, username, password, "admin" if admin else "member")
    click.echo(f"created {'admin' if admin else 'member'} {username}")


@user.command("list")
@friendly_errors
def user_list() -> None:
    """List users."""
    from rich.console import Console
    from rich.table import Table

    from datamill.auth.users import list_users

    with _database(_settings()) as session:
        users, total = list_users(session, 0, 10_000)
        table = Table("username", "role", "disabled", "created")
        for u in users:
            table.add_row(
                u.username, u.role, "yes" if u.disabled else "", f"{u.created_at:%Y-%m-%d}"
            )
    Console().print(table)
    click.echo(f"{total} users")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def user_set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password (asked for, or read from stdin)."""
    from datamill.auth.users import require_by_username, set_password

    with _database(_settings()) as session:
        target = require_by_username(session, username)
        set_password(session, target, _read_password(password_stdin))
    click.echo(f"password changed for {username}")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="What it is for.")
@friendly_errors
def token_create(username: str, name: str) -> None:
    """Create an API token for USERNAME and print it (once)."""
    from datamill.auth.sessions import create_token
    from datamill.auth.users import require_by_username

    settings = _settings()
    with _database(settings) as session:
        owner = require_by_username(session, username)
        value, _ = create_token(session, settings.resolved_secret_key(), owner, name)
    click.echo(value)


@main.group()
def dataset() -> None:
    """Work with datasets on a running server."""


@dataset.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Dataset name (default: the file name).")
@click.option("--url", envvar="DATAMILL_URL", default="http://127.0.0.1:8000", show_default=True)
@friendly_errors
def dataset_upload(file: Path, name: str | None, url: str) -> None:
    """Upload FILE (CSV, TSV, XLSX, JSON, Parquet) with a progress bar.

    The API token comes from DATAMILL_TOKEN, or is asked for: never from the command line,
    where other users of the machine could read it.
    """
    from datamill.upload_client import UploadFailed, upload_file

    token = _token()
    try:
        reply = upload_file(url, token, file, name)
    except UploadFailed as error:
        _fail(str(error))
    head = reply.get("head_revision") or {}
    click.echo(
        f"uploaded {reply['name']!r}: {head.get('row_count', 0):,} rows, "
        f"{len(head.get('columns', []))} columns (id {reply['id']})"
    )
    for warning in reply.get("warnings", []):
        click.echo(f"note: {warning}")


URL_OPTION = click.option(
    "--url", envvar="DATAMILL_URL", default="http://127.0.0.1:8000", show_default=True
)


@dataset.command("op")
@click.argument("dataset_ref", metavar="DATASET")
@click.argument("operation")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter (JSON or text)."
)
@click.option("--base-revision", help="Refuse (409) unless this revision is still the head.")
@click.option("--detach", is_flag=True, help="Print the run id and return without waiting.")
@URL_OPTION
@friendly_errors
def dataset_op(
    dataset_ref: str,
    operation: str,
    params: tuple[str, ...],
    base_revision: str | None,
    detach: bool,
    url: str,
) -> None:
    """Apply OPERATION to DATASET (its id or name) and wait for the new revision.

    `datamill operations` lists the operations and their parameters. Example:
    datamill dataset op sales fill-statistic --param column=price --param statistic=median
    """
    from rich.console import Console

    from datamill import dataset_client as dc
    from datamill import run_client as rc

    named = rc.parse_pairs(params, "--param")
    with rc.api_for(url, _token()) as api:
        try:
            found, reply = dc.apply_operation(api, dataset_ref, operation, named, base_revision)
            if detach:
                click.echo(reply["run_id"])
                return
            run = rc.run_and_watch(api, reply["run_id"], Console(stderr=True))
            click.echo(f"{operation}: {dc.landed(api, found, run)}")
        except rc.RunFailed as error:
            _fail(str(error))


@contextmanager
def _on_dataset(url: str, dataset_ref: str) -> Iterator[tuple[Any, str]]:
    """The API and the id of the dataset ``dataset_ref`` names; what the server refuses in the
    block is one line on standard error."""
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            yield api, rc.dataset_id(api, dataset_ref)
        except rc.RunFailed as error:
            _fail(str(error))


@dataset.command("history")
@click.argument("dataset_ref", metavar="DATASET")
@URL_OPTION
@friendly_errors
def dataset_history(dataset_ref: str, url: str) -> None:
    """The steps of DATASET from its upload, the head marked with →."""
    from rich.console import Console

    from datamill import dataset_client as dc

    with _on_dataset(url, dataset_ref) as (api, found):
        history = api.request("GET", f"/api/v1/datasets/{found}/history")
    Console().print(dc.history_table(history))


@dataset.command("recipe")
@click.argument("dataset_ref", metavar="DATASET")
@URL_OPTION
@friendly_errors
def dataset_recipe(dataset_ref: str, url: str) -> None:
    """Print DATASET's recipe (its operations up to the head) as JSON."""
    with _on_dataset(url, dataset_ref) as (api, found):
        recipe = api.request("GET", f"/api/v1/datasets/{found}/recipe")
    click.echo(json.dumps(recipe, indent=2, ensure_ascii=False))


@dataset.command("replay")
@click.argument("dataset_ref", metavar="DATASET")
@click.argument("recipe_file", metavar="RECIPE", type=click.File("rb"))
@URL_OPTION
@friendly_errors
def dataset_replay(dataset_ref: str, recipe_file: IO[bytes], url: str) -> None:
    """Apply the operations of RECIPE (a JSON file, `-` for standard input) to DATASET."""
    from rich.console import Console

    from datamill import dataset_client as dc
    from datamill import run_client as rc

    data = recipe_file.read(dc.MAX_RECIPE_BYTES + 1)
    if len(data) > dc.MAX_RECIPE_BYTES:
        _fail(f"the recipe is larger than {dc.MAX_RECIPE_BYTES:,} bytes")
    try:
        recipe = json.loads(data)
    except ValueError as error:
        _fail(f"the recipe is not JSON: {error}")
    with _on_dataset(url, dataset_ref) as (api, found):
        reply = api.request("POST", f"/api/v1/datasets/{found}/recipe", 202, json=recipe)
        run = rc.run_and_watch(api, reply["run_id"], Console(stderr=True))
        click.echo(f"recipe: {dc.landed(api, found, run)}")


def _move(dataset_ref: str, url: str, direction: str) -> None:
    from datamill import dataset_client as dc
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            head = dc.move(api, dataset_ref, direction)
        except rc.RunFailed as error:
            _fail(str(error))
    click.echo(f"head: revision {head['number']} ({head['row_count']:,} rows)")


@dataset.command("undo")
@click.argument("dataset_ref", metavar="DATASET")
@URL_OPTION
@friendly_errors
def dataset_undo(dataset_ref: str, url: str) -> None:
    """Move DATASET's head one step back."""
    _move(dataset_ref, url, "undo")


@dataset.command("redo")
@click.argument("dataset_ref", metavar="DATASET")
@URL_OPTION
@friendly_errors
def dataset_redo(dataset_ref: str, url: str) -> None:
    """Move DATASET's head one step forward again."""
    _move(dataset_ref, url, "redo")


@main.command("operations")
@URL_OPTION
@friendly_errors
def operations_list(url: str) -> None:
    """The cleaning operations a server offers (parameters marked ? are optional)."""
    from rich.console import Console

    from datamill import dataset_client as dc
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        reply = api.request("GET", "/api/v1/operations")
    Console().print(dc.operations_table(reply["data"]))


@main.command("run")
@click.argument("pipeline")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter (JSON or text)."
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=FILE",
    help="An input: a file to upload, or dataset:ID (or dataset:NAME) for a dataset on the server.",
)
@click.option("--detach", is_flag=True, help="Print the run id and return without waiting.")
@URL_OPTION
@friendly_errors
def run_pipeline(
    pipeline: str, params: tuple[str, ...], inputs: tuple[str, ...], detach: bool, url: str
) -> None:
    """Run PIPELINE on a server and watch its steps live; exit status 0 when it succeeds.

    Ctrl-C stops watching, not the run: `datamill runs cancel ID` stops it.
    """
    from rich.console import Console

    from datamill import run_client as rc

    named_params = rc.parse_pairs(params, "--param")
    named_inputs = rc.parse_pairs(inputs, "--input")
    with rc.api_for(url, _token()) as api:
        try:
            reply = rc.submit(api, pipeline, named_params, named_inputs)
            run_id = reply["run_id"]
            if detach:
                click.echo(run_id)
                return
            try:
                run = rc.run_and_watch(api, run_id, Console())
            except KeyboardInterrupt:
                click.echo(f"stopped watching; the run goes on: datamill runs show {run_id}")
                sys.exit(130)
        except rc.RunFailed as error:
            _fail(str(error))
    for line in rc.summary(run):
        click.echo(line)
    if run["state"] != "succeeded":
        sys.exit(1)


@main.group("runs", invoke_without_command=True)
@click.option("--pipeline", help="Only runs of this pipeline.")
@click.option("--state", help="Only runs in this state (queued, running, succeeded, failed...).")
@click.option("--owner", help="Only runs of this user (administrators).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@URL_OPTION
@click.pass_context
@friendly_errors
def runs(
    context: click.Context,
    pipeline: str | None,
    state: str | None,
    owner: str | None,
    limit: int,
    url: str,
) -> None:
    """List the latest runs on a server; subcommands show, follow and stop one."""
    if context.invoked_subcommand is not None:
        return
    from rich.console import Console

    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            reply = rc.list_runs(api, {"pipeline": pipeline, "state": state, "owner": owner}, limit)
        except rc.RunFailed as error:
            _fail(str(error))
    if not reply["data"]:
        click.echo("no runs yet: start one with datamill run PIPELINE")
        return
    Console().print(rc.runs_table(reply["data"]))
    if reply["count"] > len(reply["data"]):
        click.echo(f"({len(reply['data'])} of {reply['count']}; --limit shows more)")


@runs.command("show")
@click.argument("run_id")
@click.option("--watch", is_flag=True, help="Follow the run live until it ends.")
@URL_OPTION
@friendly_errors
def runs_show(url: str, run_id: str, watch: bool) -> None:
    """Show a run: its steps, outputs and artifacts."""
    from rich.console import Console

    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            if watch:
                run = rc.run_and_watch(api, run_id, Console())
            else:
                run = api.request("GET", f"/api/v1/runs/{run_id}")
                Console().print(rc.steps_table(run))
        except rc.RunFailed as error:
            _fail(str(error))
    for line in rc.summary(run):
        click.echo(line)


@runs.command("cancel")
@click.argument("run_id")
@URL_OPTION
@friendly_errors
def runs_cancel(url: str, run_id: str) -> None:
    """Cancel a run: running steps are stopped, the others will not start."""
    _steer(url, run_id, "cancel")


@runs.command("retry")
@click.argument("run_id")
@URL_OPTION
@friendly_errors
def runs_retry(url: str, run_id: str) -> None:
    """Run the failed, cancelled and skipped steps of a run again."""
    _steer(url, run_id, "retry")


def _steer(url: str, run_id: str, action: str) -> None:
    """POST ``/runs/{id}/{action}`` and tell the run's state after it."""
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            run = api.request("POST", f"/api/v1/runs/{run_id}/{action}", 202)
        except rc.RunFailed as error:
            _fail(str(error))
    click.echo(f"run {run_id} {run['state']}")


@runs.command("log")
@click.argument("run_id")
@click.argument("step")
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the step runs.")
@URL_OPTION
@friendly_errors
def runs_log(url: str, run_id: str, step: str, follow: bool) -> None:
    """Print the log of a step (its stdout and stderr)."""
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            rc.print_log(api, run_id, step, follow, sys.stdout)
        except rc.RunFailed as error:
            _fail(str(error))


@runs.command("download")
@click.argument("run_id")
@click.argument("artifact")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to save it (default: the name the server gives it, in this directory).",
)
@URL_OPTION
@friendly_errors
def runs_download(url: str, run_id: str, artifact: str, output: Path | None) -> None:
    """Save ARTIFACT (STEP.NAME, as `datamill runs show` lists them) of a run to a file."""
    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            run = api.request("GET", f"/api/v1/runs/{run_id}")
            found = rc.find_artifact(run, artifact)
            target = rc.download(api, run_id, found, output)
        except rc.RunFailed as error:
            _fail(str(error))
    click.echo(f"saved {target} ({target.stat().st_size:,} bytes)")


@main.command()
@click.option(
    "--queues",
    default="default",
    show_default=True,
    help="Comma-separated queues this worker serves (a task's `queue:` routes it).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=2,
    show_default=True,
    help="Steps run at once (worker processes).",
)
@friendly_errors
def worker(queues: str, concurrency: int) -> None:
    """Run a Celery worker for pipeline steps (DATAMILL_EXECUTOR=celery, DATAMILL_BROKER_URL)."""
    from datamill.executors.celery import run_worker

    settings = _settings()
    if settings.executor != "celery":
        _fail("datamill worker needs DATAMILL_EXECUTOR=celery and DATAMILL_BROKER_URL")
    names = [name.strip() for name in queues.split(",") if name.strip()]
    if not names:
        _fail("--queues names no queue")
    click.echo(
        f"Datamill worker on {_hide_password(settings.broker_url or '')}: queues "
        f"{', '.join(names)}, {concurrency} processes"
    )
    run_worker(settings, names, concurrency)


@dataset.command("list")
@click.option("--search", "-q", help="Only datasets whose name contains this text.")
@URL_OPTION
@friendly_errors
def dataset_list(search: str | None, url: str) -> None:
    """List the datasets you can read on a server."""
    from rich.console import Console
    from rich.table import Table

    from datamill import run_client as rc

    with rc.api_for(url, _token()) as api:
        try:
            query = {"limit": 200, **({"q": search} if search else {})}
            reply = api.request("GET", "/api/v1/datasets", params=query)
        except rc.RunFailed as error:
            _fail(str(error))
    if not reply["data"]:
        click.echo("no datasets yet: upload one with datamill dataset upload FILE")
        return
    table = Table()
    for column in ("id", "name", "owner", "rows", "columns"):
        table.add_column(column)
    for item in reply["data"]:
        head = item.get("head_revision") or {}
        table.add_row(
            item["id"],
            item["name"],
            item.get("owner", ""),
            f"{head.get('row_count', 0):,}",
            str(len(head.get("columns", []))),
        )
    Console().print(table)


@main.command()
@friendly_errors
def demo() -> None:
    """Create the demo account and demo datasets when they are absent."""
    from datamill.demo import ensure_demo

    settings = _settings()
    with _database(settings) as session:
        report = ensure_demo(session, settings)
    if report.password:
        click.echo(f"Demo account created: user 'demo', password '{report.password}'")
        click.echo("(the password is shown once; change it with: datamill user set-password demo)")
    else:
        click.echo("Demo account 'demo' already exists.")
    for name in report.created:
        click.echo(f"demo dataset created: {name}")
    for name in report.tasks:
        click.echo(f"demo task registered: {name}")
    for name in report.pipelines:
        click.echo(f"demo pipeline saved: {name}")
    if report.pipelines:
        click.echo(
            "try it: datamill run coffee-report --input 'sales=dataset:Coffee shop sales' "
            "(with DATAMILL_TOKEN set: datamill token create demo)"
        )
