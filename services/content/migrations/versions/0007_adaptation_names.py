"""Adaptations and their reviews name their facilitator and reviewer as they signed their work

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("adaptations") as batch:
        batch.add_column(sa.Column("facilitator_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("adaptation_reviews") as batch:
        batch.add_column(sa.Column("reviewer_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adaptation_reviews") as batch:
        batch.drop_column("reviewer_name")
    with op.batch_alter_table("adaptations") as batch:
        batch.drop_column("facilitator_name")
