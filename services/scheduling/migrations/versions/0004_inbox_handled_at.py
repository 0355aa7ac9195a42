"""Index the inbox by when each event was handled, for the worker's housekeeping to prune by age

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from shared import migrations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrations.add_inbox_handled_at_index(op)


def downgrade() -> None:
    migrations.drop_inbox_handled_at_index(op)
