"""The name a facilitator booked an office-hours slot under, so the specialist sees who is coming

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("office_hour_bookings") as batch:
        batch.add_column(sa.Column("facilitator_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office_hour_bookings") as batch:
        batch.drop_column("facilitator_name")
