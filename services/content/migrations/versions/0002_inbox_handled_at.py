"""Index the inbox by when each event was handled, for the worker's housekeeping to prune by age

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inbox_handled_at', 'inbox', ['handled_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_handled_at', table_name='inbox')
