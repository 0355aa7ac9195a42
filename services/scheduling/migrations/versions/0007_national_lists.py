"""Indexes a national year needs: every jurisdiction's sessions in time order; free seats alone

National admins list sessions across jurisdictions, ordered by ``(starts_at, id)``: without an index
on those columns every page was a parallel scan and a sort of all sessions. The worker's periodic
search for seats left free while people wait (``cohorts_with_free_seats_and_people_waiting``)
read every place row: free seats get a partial index of their own, which is empty while every seat
is taken (nearly always), so the search reads nothing; a claim, which takes a seat, adds nothing to it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_start", "sessions", ["starts_at", "id"], unique=False)
    op.create_index(
        "ix_places_free_seats",
        "places",
        ["cohort_id"],
        unique=False,
        postgresql_where=sa.text("kind = 'seat' AND registration_id IS NULL"),
        sqlite_where=sa.text("kind = 'seat' AND registration_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_places_free_seats", table_name="places")
    op.drop_index("ix_sessions_start", table_name="sessions")
