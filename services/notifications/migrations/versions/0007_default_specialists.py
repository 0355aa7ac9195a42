"""Each jurisdiction's default specialist, from coaching, so that an adaptation whose facilitator has no
specialist of their own reaches someone

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "default_specialists",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("specialist", sa.String(length=200), nullable=True),
        sa.Column("as_of", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )


def downgrade() -> None:
    op.drop_table("default_specialists")
