"""An operation step on a worker: read the input table, apply the operation, write the result.

The result is written to the attempt's working directory. In a pipeline, it stays there: the
step's ``table`` output, like any task's. In a run of operations on a dataset, it is then moved
to its place among the dataset's revisions (under a fresh revision id) and its row is inserted
when the success is recorded (:mod:`datamill.operations.landing`).

The input is read where it is stored (revisions and table outputs never change), never copied.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.query import columns_of
from datamill.db.models import new_id
from datamill.operations.apply import apply_operation
from datamill.operations.base import OperationError
from datamill.operations.catalog import OPERATIONS, check_params
from datamill.operations.tasks import TABLE
from datamill.problems import Invalid
from datamill.runs.execution import Job, MadeRevision, Result, StepError, stored_table
from datamill.runs.produced import produced_files
from datamill.runs.progress import OnProgress, Progress
from datamill.runs.workdir import OUTPUTS_DIR, make_workdir, stored_path
from datamill.storage.files import atomic_target, publish, resolve_inside, revision_relpath

_engines: dict[Path, Engine] = {}


def engine_for(settings: Settings) -> Engine:
    """This process's DuckDB for operations, confined to the data directory."""
    engine = _engines.get(settings.data_dir)
    if engine is None:
        engine = Engine(
            settings.duckdb_memory_limit,
            settings.tmp_dir / "duckdb",
            allowed_dirs=[settings.data_dir],
        )
        _engines[settings.data_dir] = engine
    return engine


def run_operation(
    job: Job, settings: Settings, workdir: Path, on_progress: OnProgress | None = None
) -> Result:
    """Apply the job's operation; a failure (bad parameters, data that makes it impossible, a
    missing input) is a failed result whose reason says why."""
    try:
        return _run(job, settings, workdir, on_progress)
    except (StepError, OperationError, OSError, ValueError, duckdb.Error) as problem:
        return Result("failed", reason=str(problem))
    except Invalid as problem:
        details = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problem.errors or []
        )
        return Result("failed", reason=details or problem.detail)


def _run(job: Job, settings: Settings, workdir: Path, on_progress: OnProgress | None) -> Result:
    name = job.task.operation or ""
    operation = OPERATIONS.get(name)
    if operation is None:
        raise StepError(f"there is no operation {name!r}")
    stored = job.inputs.get(TABLE)
    if not isinstance(stored, str):
        raise StepError(f"input {TABLE!r}: expected a stored table")
    source = stored_table(settings.data_dir, stored)
    metadata = pq.read_metadata(source)
    columns = columns_of(metadata.schema.to_arrow_schema())
    params = check_params(operation, job.params, columns, metadata.num_rows, loc=("params",))
    revision_id = new_id()
    make_workdir(workdir)
    written = workdir / OUTPUTS_DIR / f"{TABLE}.parquet"
    progress = Progress(on_progress)
    cursor = engine_for(settings).cursor()
    try:
        # Written in the attempt's working directory first: an attempt stopped half-way (a
        # cancel kills its process) leaves its partial file there, never among revisions.
        with atomic_target(written) as out:
            applied = apply_operation(
                cursor, operation, params, source, columns, out, lambda f: progress(f, name)
            )
    finally:
        cursor.close()
    target = written
    if job.dataset_id is not None:
        relpath = revision_relpath(job.dataset_id, revision_id)
        target = resolve_inside(settings.revisions_dir, relpath)
        publish(written, target)
    progress(1.0, name)
    outputs = {TABLE: stored_path(settings.data_dir, target.resolve()), "changes": applied.changes}
    if job.dataset_id is None:  # a pipeline's step: its table is an artifact like any task's
        produced = produced_files(job.task, outputs, settings.data_dir)
        return Result("succeeded", outputs, produced=tuple(produced))
    made = MadeRevision(
        id=revision_id,
        dataset_id=job.dataset_id,
        path=relpath,
        file=str(target),
        row_count=applied.rows,
        size_bytes=target.stat().st_size,
        columns=[{"name": c["name"], "type": c["type"]} for c in applied.columns],
        changes=applied.changes,
    )
    return Result("succeeded", {**outputs, "revision": revision_id}, revision=made)
