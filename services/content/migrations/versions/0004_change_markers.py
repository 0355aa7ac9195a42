"""Change markers for lossless incremental sync (``changed_after``)

Every row a state system syncs gets ``change``, the marker of the transaction that last wrote it
(shared.changes): on PostgreSQL the writing transaction's id, by default for rows inserted without
it; on SQLite the value of ``change_counter``, which each write transaction advances. Existing rows
get the migration's own marker (PostgreSQL) or 1 (SQLite), so a first sync from 0 reads them all.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from shared.changes import add_change_markers, drop_change_markers

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "series",
    "modules",
    "materials",
    "material_versions",
    "adaptations",
    "adaptation_reviews",
    "dead_letters",
    "api_keys",
)


def upgrade() -> None:
    add_change_markers(op, TABLES)


def downgrade() -> None:
    drop_change_markers(op, TABLES)
