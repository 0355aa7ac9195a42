"""Change markers for lossless incremental sync (``changed_after``)

Every row a state system syncs gets ``change``, the marker of the transaction that last wrote it
(shared.changes): on PostgreSQL the writing transaction's id, by default for rows inserted without
it; on SQLite the value of ``change_counter``, which each write transaction advances. Existing rows
get the migration's own marker (PostgreSQL) or 1 (SQLite), so a first sync from 0 reads them all.

Revision ID: 0006
Revises: 0004 (the lead re-chains it after 0005 at merge)
"""

from alembic import op

from shared.changes import add_change_markers, drop_change_markers

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('host_agencies', 'venues', 'rooms', 'training_requests', 'cohorts', 'sessions', 'registrations',
          'registration_audit', 'attendance', 'completions', 'self_reported_hours', 'recurring_series',
          'office_hour_bookings', 'dead_letters', 'api_keys')


def upgrade() -> None:
    add_change_markers(op, TABLES)


def downgrade() -> None:
    drop_change_markers(op, TABLES)
