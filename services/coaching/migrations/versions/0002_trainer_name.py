"""A plan carries its trainer's name as registered in scheduling

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 17:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: plans opened before completions carried a name get it from the backfill.
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trainer_name", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("trainer_name")
