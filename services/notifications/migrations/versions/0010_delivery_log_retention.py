"""The delivery log forgets what it no longer needs: a message's content after a month, its row after a year

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("content_deleted_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_deliveries_retention", "deliveries", ["content_deleted_at", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_retention", table_name="deliveries")
    # Plain ALTER on both engines (SQLite 3.35+).
    op.execute("ALTER TABLE deliveries DROP COLUMN content_deleted_at")
