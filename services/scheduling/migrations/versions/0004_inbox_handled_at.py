"""Index the inbox by when each event was handled, for the worker's housekeeping to prune by age

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inbox_handled_at', 'inbox', ['handled_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_handled_at', table_name='inbox')
