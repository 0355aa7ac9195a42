"""Learning communities: memberships (where each member's contact point is kept), known calls, call reminders

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_memberships",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("announced_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "person", name=op.f("pk_community_memberships")),
    )
    op.create_table(
        "known_calls",
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("community_id", sa.String(length=36), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("starts_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_known_calls")),
    )
    op.create_index("ix_known_calls_community_id", "known_calls", ["community_id"], unique=False)
    op.create_table(
        "call_reminders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("due_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_reminders")),
        sa.UniqueConstraint("call_id", "person", "minutes_before", name=op.f("uq_call_reminders_call_id")),
    )
    op.create_index("ix_call_reminders_call_id", "call_reminders", ["call_id"], unique=False)
    op.create_index("ix_call_reminders_due", "call_reminders", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("call_reminders")
    op.drop_table("known_calls")
    op.drop_table("community_memberships")
