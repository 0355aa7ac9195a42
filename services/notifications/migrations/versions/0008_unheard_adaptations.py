"""Adaptations submitted while nobody was known to review them, kept for a specialist whose event arrives late

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unheard_adaptations",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("facilitator", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_unheard_adaptations_submitted", "unheard_adaptations", ["tenant", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_unheard_adaptations_submitted", table_name="unheard_adaptations")
    op.drop_table("unheard_adaptations")
