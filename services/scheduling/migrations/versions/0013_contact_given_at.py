"""Registrations say when their name and e-mail were given, so that a person with two registrations is
reached at the address they gave last

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
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("contact_given_at", shared.db.UTCDateTime(timezone=True), nullable=True))
    # A registration's name and e-mail were given when it was made, or later on re-registering; its
    # creation is the moment known for sure (its last change may be a promotion, which gives nothing).
    op.execute("UPDATE registrations SET contact_given_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("contact_given_at")
