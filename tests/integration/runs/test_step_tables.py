"""Table inputs and outputs of a step, on every dialect: a python function gets a DataFrame and
returns one, a command gets a CSV (or Parquet) file and leaves one; values survive the round
trip, and a missing, unreadable or wrong output fails the step naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from datamill.config import Settings
from datamill.db.models import User
from tests.integration.runs.attempts import one_step, start_run, step_rows, workdir

ROWS = {
    "id": pa.array([1, 2, None, -4], pa.int64()),
    "price": pa.array([1.5, None, -0.25, 1e10], pa.float64()),
    "city": pa.array(["Zürich", "東京", None, 'a "quoted", text'], pa.string()),
}

HEAD = {
    "name": "head",
    "kind": "python",
    "function": "table_tools:head",
    "inputs": {"table": {"kind": "table"}},
    "outputs": {"table": {"kind": "table"}},
    "params": {"type": "object", "properties": {"n": {"type": "integer", "default": 100}}},
}


def store_table(settings: Settings, table: pa.Table, name: str = "table") -> str:
    path = settings.data_dir / "uploads" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return f"uploads/{name}.parquet"


def table_pipeline(task: dict[str, Any], with_: dict[str, Any] | None = None) -> str:
    pipeline = one_step(task, {"table": "${inputs.table}", **(with_ or {})})
    return pipeline.replace("steps:", "inputs: {table: {kind: table}}\nsteps:", 1)


def run_on_table(
    db: Session,
    owner: User,
    settings: Settings,
    execute: Callable[..., Any],
    task: dict[str, Any],
    table: pa.Table,
    with_: dict[str, Any] | None = None,
) -> tuple[str, Any]:
    stored = store_table(settings, table)
    pipeline = table_pipeline(task, with_)
    run_id, [dispatch] = start_run(db, owner, [task], pipeline, inputs={"table": stored})
    execute(run_id, dispatch.step, dispatch.attempt)
    return run_id, step_rows(db, run_id)["only"]


def stored_rows(settings: Settings, stored: str) -> dict[str, list[Any]]:
    return pq.read_table(settings.data_dir / stored).to_pydict()


@pytest.mark.usefixtures("examples_importable")
def test_a_python_task_gets_a_dataframe_and_its_returned_one_is_stored_as_parquet(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id, row = run_on_table(db, owner, settings, execute, HEAD, pa.table(ROWS))

    assert (row.state, row.error) == ("succeeded", None)
    assert row.outputs == {"table": f"work/{run_id}/only/1/outputs/table.parquet"}
    stored = pq.read_table(settings.data_dir / row.outputs["table"])
    assert stored.to_pydict() == pa.table(ROWS).to_pydict()
    assert stored.schema.field("id").type == pa.int64()  # nulls did not make it a float
    assert not list((workdir(settings, run_id, "only") / "outputs").glob(".*.tmp"))


@pytest.mark.usefixtures("examples_importable")
def test_an_empty_table_keeps_its_columns_through_a_python_task(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    _, row = run_on_table(db, owner, settings, execute, HEAD, pa.table(ROWS), {"n": 0})

    assert row.state == "succeeded"
    stored = pq.read_table(settings.data_dir / row.outputs["table"])
    assert stored.num_rows == 0 and stored.column_names == ["id", "price", "city"]


@pytest.mark.usefixtures("examples_importable")
def test_the_outlier_example_flags_counts_and_reports_progress(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "flag-outliers",
        "kind": "python",
        "function": "table_tools:flag_outliers",
        "inputs": {"table": {"kind": "table"}},
        "outputs": {"table": {"kind": "table"}, "count": {"kind": "value"}},
        "params": {
            "type": "object",
            "properties": {"k": {"type": "number"}, "column": {"type": "string"}},
        },
    }
    prices = pa.table({"price": [10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 100.0, None]})
    stored = store_table(settings, prices)
    pipeline = table_pipeline(task, {"k": 2, "column": "price"})
    run_id, [dispatch] = start_run(db, owner, [task], pipeline, inputs={"table": stored})
    reports: list[tuple[float, str | None]] = []

    execute(run_id, dispatch.step, 1, on_progress=lambda f, m: reports.append((f, m)))

    row = step_rows(db, run_id)["only"]
    assert row.state == "succeeded" and row.outputs["count"] == 1
    flagged = stored_rows(settings, row.outputs["table"])
    assert flagged["outlier"] == [False] * 6 + [True, False]
    assert reports == [(0.0, "reading 8 rows"), (1.0, "done")]
    log = (workdir(settings, run_id, "only") / "log.txt").read_text()
    assert log == "1 outliers in price\n"


def test_a_returned_value_that_is_not_a_table_fails_naming_the_output(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "not-a-table",
        "kind": "python",
        "function": "builtins:dict",
        "outputs": {"rows": {"kind": "table"}},
        "params": {"type": "object", "properties": {"rows": {"type": "array"}}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task, {"rows": [[1, 2]]}))

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert row.state == "failed"
    assert row.error == (
        "output 'rows' is not a table: expected a pandas DataFrame or a pyarrow Table, got list"
    )
    assert not list((workdir(settings, run_id, "only") / "outputs").iterdir())


CAT_CSV = {
    "name": "cat-csv",
    "kind": "command",
    "command": ["cp", "{inputs.table}", "{outputs.table}"],
    "inputs": {"table": {"kind": "table"}},
    "outputs": {"table": {"kind": "table", "path": "outputs/result.csv"}},
}


def test_a_command_gets_a_csv_and_its_csv_output_is_stored_as_parquet(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id, row = run_on_table(db, owner, settings, execute, CAT_CSV, pa.table(ROWS))

    assert (row.state, row.error) == ("succeeded", None)
    staged = workdir(settings, run_id, "only") / "inputs" / "table.csv"
    assert staged.read_text(encoding="utf-8").splitlines()[0] == "id,price,city"
    assert row.outputs == {"table": f"work/{run_id}/only/1/outputs/table.parquet"}
    assert stored_rows(settings, row.outputs["table"]) == pa.table(ROWS).to_pydict()


def test_a_command_gets_parquet_when_its_port_path_says_so(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        **CAT_CSV,
        "name": "cat-parquet",
        "inputs": {"table": {"kind": "table", "path": "inputs/in.parquet"}},
        "outputs": {"table": {"kind": "table", "path": "outputs/table.parquet"}},
    }
    run_id, row = run_on_table(db, owner, settings, execute, task, pa.table(ROWS))

    assert (row.state, row.error) == ("succeeded", None)
    staged = workdir(settings, run_id, "only") / "inputs" / "in.parquet"
    assert pq.read_table(staged).to_pydict() == pa.table(ROWS).to_pydict()
    assert stored_rows(settings, row.outputs["table"]) == pa.table(ROWS).to_pydict()


def test_an_empty_table_reaches_a_command_as_a_header(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    run_id, row = run_on_table(db, owner, settings, execute, CAT_CSV, pa.table(ROWS).slice(0, 0))

    staged = workdir(settings, run_id, "only") / "inputs" / "table.csv"
    assert staged.read_text(encoding="utf-8") == "id,price,city\n"
    assert row.state == "succeeded"
    stored = pq.read_table(settings.data_dir / row.outputs["table"])
    assert stored.num_rows == 0 and stored.column_names == ["id", "price", "city"]


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("true", "output 'table' is missing: outputs/t.csv was not written"),
        (": > outputs/t.csv", "output 'table' (outputs/t.csv) is not a table: The file is empty."),
    ],
)
def test_a_missing_or_empty_table_output_fails_naming_it(
    db: Session,
    owner: User,
    settings: Settings,
    execute: Callable[..., Any],
    script: str,
    reason: str,
) -> None:
    task = {
        "name": "bad-table",
        "kind": "command",
        "command": ["bash", "-c", script],
        "outputs": {"table": {"kind": "table", "path": "outputs/t.csv"}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == ("failed", reason)
    assert not (workdir(settings, run_id, "only") / "outputs" / "table.parquet").exists()


def test_a_damaged_parquet_output_fails_naming_it(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    task = {
        "name": "damaged",
        "kind": "command",
        "command": ["bash", "-c", "echo not parquet > outputs/t.parquet"],
        "outputs": {"table": {"kind": "table", "path": "outputs/t.parquet"}},
    }
    run_id, [dispatch] = start_run(db, owner, [task], one_step(task))

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert (row.state, row.error) == (
        "failed",
        "output 'table' (outputs/t.parquet) is not a table: "
        '"t.parquet" is not a Parquet file: it does not start with "PAR1".',
    )
    assert not list((workdir(settings, run_id, "only") / "outputs").glob(".*.tmp"))


def test_a_missing_table_input_fails_the_step_naming_it(
    db: Session, owner: User, settings: Settings, execute: Callable[..., Any]
) -> None:
    pipeline = table_pipeline(CAT_CSV)
    run_id, [dispatch] = start_run(
        db, owner, [CAT_CSV], pipeline, inputs={"table": "uploads/gone.parquet"}
    )

    execute(run_id, dispatch.step, dispatch.attempt)

    row = step_rows(db, run_id)["only"]
    assert row.state == "failed"
    assert row.error is not None and "uploads/gone.parquet" in row.error
