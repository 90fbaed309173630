"""A summary row per series (branch × machine × cell × metric), filled from the stored runs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("branch", sa.String(200), nullable=False),
        sa.Column("machine", sa.String(40), nullable=False),
        sa.Column("cell", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(60), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("first", sa.Text, nullable=False),
        sa.Column("last", sa.Text, nullable=False),
        sa.Column("recent", sa.Text, nullable=False),
        sa.UniqueConstraint("branch", "machine", "cell", "metric", name="uq_series"),
    )
    from rnnbench.history.series import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("series")
