"""The ``datamill`` command line.

Errors are one line on stderr and a non-zero exit; passwords come from a prompt or stdin, never
from the command line (where ``ps`` and shell history would show them).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

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
@friendly_errors
def serve(host: str | None, port: int | None) -> None:
    """Run the web app and API."""
    import uvicorn

    from datamill.app import create_app

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    shown = "localhost" if settings.host in {"127.0.0.1", "0.0.0.0"} else settings.host  # noqa: S104
    click.echo(f"Datamill {__version__} is running at http://{shown}:{settings.port}/")
    click.echo(f"API documentation: http://{shown}:{settings.port}/api/docs")
    click.echo(f"Data directory: {settings.data_dir}")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


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

    token = os.environ.get("DATAMILL_TOKEN") or ""
    if not token and sys.stdin.isatty():
        token = click.prompt("API token", hide_input=True)
    if not token:
        _fail("an API token is needed: set DATAMILL_TOKEN (datamill token create USER makes one)")
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
