"""Tasks, versioned pipelines, and the tables of the run engine: runs, steps, workers, artifacts.

Why: pipelines become web services (issue 4). An admin registers tasks; any member saves
pipelines over them, each save a new immutable version so that a run can pin what it ran. The run
engine keeps all of its state here — the database is the truth, executors are only transport —
so a restarted server or a dead worker loses nothing.

- ``tasks``: the parsed spec (JSON) and the text as submitted (YAML or JSON, kept verbatim so the
  author's comments and layout survive a round trip).
- ``pipelines`` / ``pipeline_versions``: a name, an owner and the newest version number; every
  version keeps its spec and source. Unique (pipeline, version) makes two concurrent saves of one
  pipeline conflict instead of both becoming the same version.
- ``runs``: state, parameters, inputs and outputs of one execution of a pinned version; indexed on
  (owner, state) for the per-member limit on active runs.
- ``run_steps``: one row per step, with the task spec pinned at submit (a task changed or deleted
  later does not change a run), attempts, queue, worker, timings and the next retry time; indexed
  on state for the orchestrator's scans (ready, retrying, running on a lost worker).
- ``workers``: hostname, pid, queues and heartbeats of each worker process.
- ``artifacts``: files produced by steps.

States are plain strings (no database enum): runs ``queued|running|succeeded|failed|cancelled``,
steps also ``upstream_failed|waiting``.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from datamill.db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _user(column: str, *, nullable: bool, ondelete: str) -> sa.Column[str]:
    return sa.Column(
        column,
        sa.String(36),
        sa.ForeignKey("users.id", ondelete=ondelete),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _user("created_by", nullable=True, ondelete="SET NULL"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "pipelines",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        _user("owner_id", nullable=False, ondelete="CASCADE"),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_pipelines_owner_id", "pipelines", ["owner_id"])
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "pipeline_id",
            sa.String(36),
            sa.ForeignKey("pipelines.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _user("created_by", nullable=True, ondelete="SET NULL"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("pipeline_id", "version"),
    )
    op.create_index("ix_pipeline_versions_pipeline_id", "pipeline_versions", ["pipeline_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "pipeline_id",
            sa.String(36),
            sa.ForeignKey("pipelines.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "pipeline_version_id",
            sa.String(36),
            sa.ForeignKey("pipeline_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user("owner_id", nullable=False, ondelete="CASCADE"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_runs_pipeline_id", "runs", ["pipeline_id"])
    op.create_index("ix_runs_pipeline_version_id", "runs", ["pipeline_version_id"])
    op.create_index("ix_runs_owner_id_state", "runs", ["owner_id", "state"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_table(
        "run_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("task_name", sa.String(64), nullable=False),
        sa.Column("task", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column(
            "worker_id",
            sa.String(36),
            sa.ForeignKey("workers.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("queued_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("run_id", "name"),
    )
    op.create_index("ix_run_steps_run_id", "run_steps", ["run_id"])
    op.create_index("ix_run_steps_state", "run_steps", ["state"])
    op.create_index("ix_run_steps_worker_id", "run_steps", ["worker_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("step_name", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])


def downgrade() -> None:
    for table in (
        "artifacts",
        "run_steps",
        "workers",
        "runs",
        "pipeline_versions",
        "pipelines",
        "tasks",
    ):
        op.drop_table(table)
