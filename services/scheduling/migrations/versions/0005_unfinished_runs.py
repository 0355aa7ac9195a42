"""Unfinished runs: the consumer counts handler runs of redelivered events that never finished

A row is written before the handler of a redelivered event starts and removed when it returns or
raises; a row that stays counts the consumer processes that event killed, so the consumer
dead-letters that event and not the innocent ones redelivered with it.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from shared import migrations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrations.add_unfinished_runs(op)


def downgrade() -> None:
    migrations.drop_unfinished_runs(op)
