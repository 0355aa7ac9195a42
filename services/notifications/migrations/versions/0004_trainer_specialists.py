"""Who supports each trainer, from coaching's plan events, so that an adaptation a trainer submits reaches them

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
        "trainer_specialists",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("specialist", sa.String(length=200), nullable=False),
        sa.Column("as_of", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "trainer"),
    )


def downgrade() -> None:
    op.drop_table("trainer_specialists")
