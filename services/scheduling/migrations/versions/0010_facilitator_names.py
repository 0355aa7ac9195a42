"""Facilitators' names, as their sign-in gives them when they take attendance, for certificates

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facilitator_names",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "sub", name=op.f("pk_facilitator_names")),
    )


def downgrade() -> None:
    op.drop_table("facilitator_names")
