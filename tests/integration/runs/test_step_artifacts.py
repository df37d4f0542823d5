"""Artifacts, on every dialect: the success of a step records one row per file and table output
(with its stored path and size) in the transaction of the ``succeeded`` transition, and nothing
else does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datamill.config import Settings
from datamill.db.models import Artifact, User
from datamill.runs.execution import Result, report
from datamill.runs.produced import Produced, record_artifacts
from tests.integration.runs.attempts import Clock, one_step, start_run, step_rows

THREE_OUTPUTS = {
    "name": "three-outputs",
    "kind": "command",
    "command": [
        "bash",
        "-c",
        "printf 'a,b\\n1,x\\n' > outputs/t.csv; echo hello > outputs/f.txt; echo 3 > outputs/n.txt",
    ],
    "outputs": {
        "f": {"kind": "file", "path": "outputs/f.txt"},
        "t": {"kind": "table", "path": "outputs/t.csv"},
        "n": {"kind": "value", "path": "outputs/n.txt"},
    },
}


def artifacts(db: Session, run_id: str) -> list[Artifact]:
    db.expire_all()
    query = select(Artifact).where(Artifact.run_id == run_id).order_by(Artifact.name)
    return list(db.scalars(query))


def test_a_success_records_one_artifact_per_file_and_table_output(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id, [dispatch] = start_run(db, owner, [THREE_OUTPUTS], one_step(THREE_OUTPUTS))

    execute(run_id, dispatch.step, dispatch.attempt)

    outputs = step_rows(db, run_id)["only"].outputs
    assert outputs["n"] == 3
    rows = artifacts(db, run_id)
    assert [(a.step_name, a.name, a.kind, a.path) for a in rows] == [
        ("only", "f", "file", f"work/{run_id}/only/1/outputs/f.txt"),
        ("only", "t", "table", f"work/{run_id}/only/1/outputs/t.parquet"),
    ]
    assert [a.path for a in rows] == [outputs["f"], outputs["t"]]
    assert [a.size_bytes for a in rows] == [
        (settings.data_dir / a.path).stat().st_size for a in rows
    ]
    assert rows[0].size_bytes == len("hello\n")


def test_a_failed_step_records_no_artifact(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    task = {**THREE_OUTPUTS, "name": "fails-late"}
    task["command"] = [*THREE_OUTPUTS["command"][:2], THREE_OUTPUTS["command"][2] + "; exit 1"]
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    assert step_rows(db, run_id)["only"].state == "failed"
    assert artifacts(db, run_id) == []


def test_a_success_reported_twice_records_its_artifacts_once(
    db: Session,
    owner: User,
    sessions: sessionmaker[Session],
    execute: Callable[..., Any],
) -> None:
    run_id, [dispatch] = start_run(db, owner, [THREE_OUTPUTS], one_step(THREE_OUTPUTS))
    execute(run_id, dispatch.step, dispatch.attempt)
    first = artifacts(db, run_id)
    produced = tuple(Produced(a.name, a.kind, a.path, a.size_bytes) for a in first)

    again = Result("succeeded", step_rows(db, run_id)["only"].outputs, produced=produced)
    outcome = report(sessions, run_id, "only", 1, again, Clock())

    assert not outcome.applied
    assert [a.id for a in artifacts(db, run_id)] == [a.id for a in first]


def test_recording_a_step_again_replaces_its_artifacts(
    db: Session, owner: User, execute: Callable[..., Any]
) -> None:
    run_id, [dispatch] = start_run(db, owner, [THREE_OUTPUTS], one_step(THREE_OUTPUTS))
    execute(run_id, dispatch.step, dispatch.attempt)

    record_artifacts(db, run_id, "only", [Produced("f", "file", "work/x/f.txt", 1)])
    db.commit()

    assert [(a.name, a.path) for a in artifacts(db, run_id)] == [("f", "work/x/f.txt")]
