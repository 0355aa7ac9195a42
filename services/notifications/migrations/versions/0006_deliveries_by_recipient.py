"""The delivery log by address within a jurisdiction, however the address was typed (support's lookup)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_recipient", "deliveries", ["tenant", sa.text("lower(recipient)")])


def downgrade() -> None:
    op.drop_index("ix_deliveries_recipient", table_name="deliveries")
