"""Specialists' names, as their sign-in gives them, so a trainer reads who their specialist is

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "specialist_names",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "sub", name=op.f("pk_specialist_names")),
    )


def downgrade() -> None:
    op.drop_table("specialist_names")
