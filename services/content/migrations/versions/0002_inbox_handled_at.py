"""Index the inbox by when each event was handled, for the worker's housekeeping to prune by age

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared import migrations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrations.add_inbox_handled_at_index(op)


def downgrade() -> None:
    migrations.drop_inbox_handled_at_index(op)
