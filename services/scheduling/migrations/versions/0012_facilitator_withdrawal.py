"""A facilitator withdrawn from the directory: no longer offered by the forms, still named on certificates

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facilitator_names") as batch:
        batch.add_column(sa.Column("withdrawn_at", shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("facilitator_names") as batch:
        batch.drop_column("withdrawn_at")
