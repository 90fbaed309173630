"""Paired comparisons: each cell of an ``rnnbench ab`` run, B over A.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("cell", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(60), nullable=False),
        sa.Column("ratio", sa.Float, nullable=False),
        sa.Column("lower", sa.Float, nullable=False),
        sa.Column("upper", sa.Float, nullable=False),
        sa.Column("pairs", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(40), nullable=False),
        sa.Column("side_a", sa.Text, nullable=False),
        sa.Column("side_b", sa.Text, nullable=False),
        sa.UniqueConstraint("run", "cell", "metric", name="uq_comparisons_cell"),
    )
    op.create_index("ix_comparisons_run", "comparisons", ["run"])
    op.create_index("ix_comparisons_cell", "comparisons", ["cell"])


def downgrade() -> None:
    op.drop_table("comparisons")
