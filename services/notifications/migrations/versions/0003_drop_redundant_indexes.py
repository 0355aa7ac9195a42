"""Drop two indexes that a unique constraint already provides: contact points by jurisdiction (the
unique (tenant, person) leads with it) and reminders by session (the unique (session_id, person,
minutes_before) leads with it). Each was written with every row and never chosen over its twin.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_contact_points_tenant", table_name="contact_points")
    op.drop_index("ix_reminders_session_id", table_name="reminders")


def downgrade() -> None:
    op.create_index("ix_reminders_session_id", "reminders", ["session_id"], unique=False)
    op.create_index("ix_contact_points_tenant", "contact_points", ["tenant"], unique=False)
