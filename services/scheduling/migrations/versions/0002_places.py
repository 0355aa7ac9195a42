"""Seats and waitlist places as rows claimed by registrations, instead of counters in the cohort row

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A waitlist place handed out before this revision whose holder is no longer on the waitlist: taken,
# so that no position is handed out twice.
_RETIRED = ""


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohorts.id"], name=op.f("fk_places_cohort_id_cohorts")),
        sa.PrimaryKeyConstraint("cohort_id", "kind", "number", name=op.f("pk_places")),
    )
    op.create_index(
        "ix_places_free",
        "places",
        ["cohort_id", "kind", "number"],
        unique=False,
        postgresql_where=sa.text("registration_id IS NULL"),
        sqlite_where=sa.text("registration_id IS NULL"),
    )
    op.create_index(op.f("ix_places_registration_id"), "places", ["registration_id"], unique=False)

    conn = op.get_bind()
    places = sa.table(
        "places", sa.column("cohort_id"), sa.column("kind"), sa.column("number"), sa.column("registration_id")
    )
    for cohort_id, capacity, waitlist_seq in conn.execute(
        sa.text("SELECT id, capacity, waitlist_seq FROM cohorts")
    ).all():
        confirmed = (
            conn.execute(
                sa.text(
                    "SELECT id FROM registrations WHERE cohort_id = :c AND status = 'confirmed' ORDER BY created_at, id"
                ),
                {"c": cohort_id},
            )
            .scalars()
            .all()
        )
        seats = [
            {
                "cohort_id": cohort_id,
                "kind": "seat",
                "number": n + 1,
                "registration_id": confirmed[n] if n < len(confirmed) else None,
            }
            for n in range(max(capacity, len(confirmed)))
        ]
        waiting = dict(
            conn.execute(
                sa.text(
                    "SELECT waitlist_position, id FROM registrations WHERE cohort_id = :c AND status = 'waitlisted'"
                ),
                {"c": cohort_id},
            ).all()
        )
        waitlist = [
            {"cohort_id": cohort_id, "kind": "waitlist", "number": n, "registration_id": waiting.get(n, _RETIRED)}
            for n in range(1, waitlist_seq + 1)
        ]
        if seats or waitlist:
            conn.execute(places.insert(), seats + waitlist)

    # ALTER TABLE … DROP COLUMN, not a batch copy: on SQLite, a copy of cohorts would have to drop the
    # table its sessions and registrations reference, which foreign keys forbid.
    op.execute("ALTER TABLE cohorts DROP COLUMN waitlist_seq")
    op.execute("ALTER TABLE cohorts DROP COLUMN confirmed_count")


def downgrade() -> None:
    op.add_column("cohorts", sa.Column("confirmed_count", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("cohorts", sa.Column("waitlist_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE cohorts SET confirmed_count = (SELECT count(*) FROM places WHERE places.cohort_id = cohorts.id "
        "AND places.kind = 'seat' AND places.registration_id IS NOT NULL), "
        "waitlist_seq = (SELECT coalesce(max(number), 0) FROM places WHERE places.cohort_id = cohorts.id "
        "AND places.kind = 'waitlist' AND places.registration_id IS NOT NULL)"
    )
    op.drop_index(op.f("ix_places_registration_id"), table_name="places")
    op.drop_index("ix_places_free", table_name="places")
    op.drop_table("places")
