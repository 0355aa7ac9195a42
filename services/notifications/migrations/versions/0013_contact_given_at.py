"""Contact points say when the name and e-mail they hold were given, so that the latest given is kept

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for the contact points kept before: the next registration event dates them.
    op.add_column("contact_points", sa.Column("contact_given_at", shared.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER on both engines (SQLite 3.35+).
    op.execute("ALTER TABLE contact_points DROP COLUMN contact_given_at")
