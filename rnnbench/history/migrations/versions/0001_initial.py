"""The first history store: runs and their cells' measurements.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("suite_fingerprint", sa.String(40)),
        sa.Column("branch", sa.String(200), nullable=False),
        sa.Column("commit", sa.String(80), nullable=False),
        sa.Column("commit_time", sa.String(40), nullable=False),
        sa.Column("machine", sa.String(40), nullable=False),
        sa.Column("cpu_model", sa.String(200)),
        sa.Column("rnnbench", sa.String(40)),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("ingested", sa.String(40), nullable=False),
        sa.UniqueConstraint("run_id", "created", name="uq_runs_run"),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("cell", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("identity", sa.Text, nullable=False),
        sa.Column("metric", sa.String(60), nullable=False),
        sa.Column("median", sa.Float, nullable=False),
        sa.Column("lower", sa.Float, nullable=False),
        sa.Column("upper", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.UniqueConstraint("run", "cell", "metric", name="uq_measurements_cell"),
    )
    op.create_index("ix_measurements_run", "measurements", ["run"])
    op.create_index("ix_measurements_cell", "measurements", ["cell"])


def downgrade() -> None:
    op.drop_table("measurements")
    op.drop_table("runs")
