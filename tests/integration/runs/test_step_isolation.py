"""What a step attempt may touch, on every dialect: its inputs are copies (a task writing to one
changes no stored file), its outputs must be regular files inside its working directory (a link
out of it fails the step, whatever the port kind), and a command flooding its log is stopped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import Artifact, User
from tests.integration.runs.attempts import one_step, start_run, step_rows, workdir

ORIGINAL = "b\na\n"


def with_input(task: dict[str, Any], kind: str = "file") -> str:
    """A pipeline of one step of ``task``, its input ``f`` given as the run's input ``f``."""
    pipeline = one_step(task, {"f": "${inputs.f}"}).replace("params: {value: {type: string}}\n", "")
    return pipeline.replace("steps:", f"inputs: {{f: {{kind: {kind}}}}}\nsteps:", 1)


def store(settings: Settings, name: str, text: str) -> Path:
    path = settings.data_dir / "revisions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_task(
    db: Session, owner: User, execute: Callable[..., Any], task: dict[str, Any], **inputs: str
) -> tuple[str, Any]:
    kind = task.get("inputs", {}).get("f", {}).get("kind", "file")
    pipeline = with_input(task, kind) if inputs else one_step(task)
    run_id, [dispatch] = start_run(db, owner, [task], pipeline, inputs=inputs)
    execute(run_id, dispatch.step, dispatch.attempt)
    return run_id, step_rows(db, run_id)["only"]


@pytest.mark.parametrize(
    "script",
    [
        'echo TAMPERED >> "$0"',
        'sort -o "$0" "$0"',
        'printf X | dd of="$0" conv=notrunc 2>/dev/null',
    ],
)
def test_a_command_writing_to_its_input_in_place_leaves_the_stored_file_unchanged(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any], script: str
) -> None:
    stored = store(settings, "shared.txt", ORIGINAL)
    task = {
        "name": "careless",
        "kind": "command",
        "command": ["sh", "-c", f'{script}; ls -i "$0"', "{inputs.f}"],
        "inputs": {"f": {"kind": "file"}},
    }
    run_id, row = run_task(db, owner, execute, task, f="revisions/shared.txt")

    assert row.state == "succeeded", row.error
    assert stored.read_text() == ORIGINAL
    seen_inode = int((workdir(settings, run_id, "only") / "log.txt").read_text().split()[0])
    assert seen_inode != stored.stat().st_ino


def test_a_python_task_appending_to_its_input_leaves_the_stored_file_unchanged(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    stored = store(settings, "shared.txt", ORIGINAL)
    task = {
        "name": "appender",
        "kind": "python",
        "function": "tests.integration.runs.chatty:append_to",
        "inputs": {"text": {"kind": "file"}},
    }
    pipeline = one_step(task, {"text": "${inputs.f}"}).replace(
        "params: {value: {type: string}}\n", "inputs: {f: {kind: file}}\n"
    )
    run_id, [dispatch] = start_run(
        db, owner, [task], pipeline, inputs={"f": "revisions/shared.txt"}
    )
    execute(run_id, dispatch.step, dispatch.attempt)

    assert step_rows(db, run_id)["only"].state == "succeeded"
    assert stored.read_text() == ORIGINAL
    assert (workdir(settings, run_id, "only") / "inputs" / "text.txt").read_text() == (
        ORIGINAL + "TAMPERED\n"
    )


def test_a_command_writing_to_its_parquet_table_input_leaves_the_stored_table_unchanged(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    stored = settings.data_dir / "revisions" / "t.parquet"
    stored.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"x": [1, 2]}), stored)
    before = stored.read_bytes()
    task = {
        "name": "truncator",
        "kind": "command",
        "command": ["sh", "-c", ': > "$0"', "{inputs.f}"],
        "inputs": {"f": {"kind": "table", "path": "inputs/f.parquet"}},
    }
    _, row = run_task(db, owner, execute, task, f="revisions/t.parquet")

    assert row.state == "succeeded", row.error
    assert stored.read_bytes() == before


def artifact_names(db: Session, run_id: str) -> list[str]:
    return list(db.scalars(select(Artifact.name).where(Artifact.run_id == run_id)))


@pytest.mark.parametrize("kind", ["file", "table", "value"])
def test_an_output_linking_out_of_the_working_directory_fails_the_step(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any], kind: str
) -> None:
    secret = store(settings, "someone-else.csv", "card,owner\n4111,carol\n")
    task = {
        "name": "unpack",
        "kind": "command",
        "command": ["ln", "-s", str(secret), "outputs/x.csv"],
        "outputs": {"x": {"kind": kind, "path": "outputs/x.csv"}},
    }
    run_id, row = run_task(db, owner, execute, task)

    assert (row.state, row.error) == ("failed", "output 'x' points outside the working directory")
    assert row.outputs in (None, {}) and artifact_names(db, run_id) == []
    assert not (workdir(settings, run_id, "only") / "outputs" / "x.parquet").exists()


def test_an_output_hard_linked_to_a_stored_file_fails_the_step(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    secret = store(settings, "someone-else.csv", "card,owner\n4111,carol\n")
    task = {
        "name": "unpack",
        "kind": "command",
        "command": ["ln", str(secret), "outputs/x.csv"],
        "outputs": {"x": {"kind": "file", "path": "outputs/x.csv"}},
    }
    _, row = run_task(db, owner, execute, task)

    assert row.state == "failed"
    assert row.error == "output 'x' points outside the working directory (a hard link)"


def test_links_that_stay_inside_the_working_directory_are_followed(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    script = (
        "echo 42 > outputs/real.txt; ln -s real.txt outputs/v.txt;"
        " ln outputs/real.txt outputs/copy.txt"
    )
    task = {
        "name": "linker",
        "kind": "command",
        "command": ["sh", "-c", script],
        "outputs": {
            "v": {"kind": "value", "path": "outputs/v.txt"},
            "f": {"kind": "file", "path": "outputs/copy.txt"},
        },
    }
    run_id, row = run_task(db, owner, execute, task)

    assert row.state == "succeeded", row.error
    assert row.outputs == {"v": 42, "f": f"work/{run_id}/only/1/outputs/copy.txt"}


@pytest.mark.parametrize(
    ("script", "what"),
    [
        ("mkdir outputs/x.txt", "is not a regular file"),
        ("mkfifo outputs/x.txt", "is not a regular file"),
        ("ln -s nowhere.txt outputs/x.txt", "is a link to nothing"),
    ],
)
def test_an_output_that_is_not_a_regular_file_fails_the_step(
    db: Session, owner: User, execute: Callable[..., Any], script: str, what: str
) -> None:
    task = {
        "name": "odd",
        "kind": "command",
        "command": ["sh", "-c", script],
        "outputs": {"x": {"kind": "value", "path": "outputs/x.txt"}},
    }
    _, row = run_task(db, owner, execute, task)

    assert row.state == "failed"
    assert row.error == f"output 'x' {what} (outputs/x.txt)"


def test_a_python_task_returning_a_link_out_of_its_working_directory_fails(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "leaker",
        "kind": "python",
        "function": "tests.integration.runs.chatty:leak",
        "outputs": {"leaked": {"kind": "file"}},
    }
    _, row = run_task(db, owner, execute, task)

    assert (row.state, row.error) == (
        "failed",
        "output 'leaked' points outside the working directory",
    )
