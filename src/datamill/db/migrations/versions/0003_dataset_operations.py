"""Runs of dataset operations, and each dataset's history of steps.

Why: cleaning operations (issue 5) run on the executor like any pipeline step and land as
revisions. Their runs have no published pipeline behind them, so:

- ``runs.pipeline_id`` and ``runs.pipeline_version_id`` become nullable;
- ``runs.spec`` holds the pipeline document Datamill made for a run of operations;
- ``runs.dataset_id`` names the dataset whose history its steps land in (deleted with it).

``dataset_steps`` is the history itself: one row per operation, in order (``position``, unique
per dataset), with its parameters, the revision it made, what it changed, its author, and
``stale`` when an earlier step was edited after it ran. Undo and redo move the dataset's head
along this line; a step applied after an undo replaces the steps past the head (their revisions
stay until a purge).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from datamill.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("pipeline_id", existing_type=sa.String(36), nullable=True)
        batch.alter_column("pipeline_version_id", existing_type=sa.String(36), nullable=True)
        batch.add_column(sa.Column("dataset_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("spec", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_runs_dataset_id_datasets", "datasets", ["dataset_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_runs_dataset_id", ["dataset_id"])
    op.create_table(
        "dataset_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.String(36),
            sa.ForeignKey("datasets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("revision_id", sa.String(36), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "author_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("dataset_id", "position"),
    )
    op.create_index("ix_dataset_steps_dataset_id", "dataset_steps", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_dataset_steps_dataset_id", table_name="dataset_steps")
    op.drop_table("dataset_steps")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_dataset_id")
        batch.drop_constraint("fk_runs_dataset_id_datasets", type_="foreignkey")
        batch.drop_column("spec")
        batch.drop_column("dataset_id")
        batch.alter_column("pipeline_version_id", existing_type=sa.String(36), nullable=False)
        batch.alter_column("pipeline_id", existing_type=sa.String(36), nullable=False)
