"""Contact points know the person's name, so that an address refused for good says whose it is by name

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contact_points", sa.Column("name", sa.String(length=300), nullable=True))


def downgrade() -> None:
    # Plain ALTER on both engines (SQLite 3.35+).
    op.execute("ALTER TABLE contact_points DROP COLUMN name")
