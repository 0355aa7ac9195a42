"""A specialist withdrawn by an admin: no longer offered when choosing a plan's specialist, still named on plans

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("specialist_names") as batch:
        batch.add_column(sa.Column("withdrawn_at", shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("specialist_names") as batch:
        batch.drop_column("withdrawn_at")
