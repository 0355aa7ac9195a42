"""Addresses refused for good by their mail server: no message is sent to them until they are cleared

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.changes import POSTGRESQL_DEFAULT

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "undeliverable_addresses",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("refused_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "change",
            sa.BigInteger(),
            nullable=False,
            server_default=sa.text(POSTGRESQL_DEFAULT) if postgresql else sa.text("1"),
        ),
        sa.PrimaryKeyConstraint("tenant", "address_key", name=op.f("pk_undeliverable_addresses")),
    )
    op.create_index("ix_undeliverable_addresses_change", "undeliverable_addresses", ["change"], unique=False)
    op.create_index("ix_undeliverable_addresses_updated_at", "undeliverable_addresses", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_undeliverable_addresses_updated_at", table_name="undeliverable_addresses")
    op.drop_index("ix_undeliverable_addresses_change", table_name="undeliverable_addresses")
    op.drop_table("undeliverable_addresses")
