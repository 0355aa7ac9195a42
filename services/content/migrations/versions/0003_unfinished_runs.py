"""Unfinished runs: the consumer counts handler runs of redelivered events that never finished

A row is written before the handler of a redelivered event starts and removed when it returns or
raises; a row that stays counts the consumer processes that event killed, so the consumer
dead-letters that event and not the innocent ones redelivered with it.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
import shared.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unfinished_runs',
    sa.Column('consumer', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('started_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_unfinished_runs'))
    )


def downgrade() -> None:
    op.drop_table('unfinished_runs')
