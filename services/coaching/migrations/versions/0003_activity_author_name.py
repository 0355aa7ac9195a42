"""An activity carries its author's name as their sign-in gave it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: activities logged before, and office hours' drafts, have no name to show.
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("author_name")
