"""Trainers' names, from coaching's plan events, so that a specialist's e-mails about a trainer name them

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trainer_specialists") as batch:
        batch.add_column(sa.Column("trainer_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trainer_specialists") as batch:
        batch.drop_column("trainer_name")
