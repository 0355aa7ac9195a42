"""Change markers for lossless incremental sync (``changed_after``); hours kept per registration

Every row a state system syncs gets ``change``, the marker of the transaction that last wrote it
(shared.changes): on PostgreSQL the writing transaction's id, by default for rows inserted without
it; on SQLite the value of ``change_counter``, which each write transaction advances. Existing rows
get the migration's own marker (PostgreSQL) or 1 (SQLite), so a first sync from 0 reads them all.

``registration_hours`` keeps each marked registration's credited hours current as attendance is
written (a page of the training-hours export is then a range of one index); it is filled here from
the attendance already taken. ``completions.registration_id`` gets an index of its own (the
export joins completions by registration).

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.changes import POSTGRESQL_DEFAULT, add_change_markers, drop_change_markers

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (
    "host_agencies",
    "venues",
    "rooms",
    "training_requests",
    "cohorts",
    "sessions",
    "registrations",
    "registration_audit",
    "attendance",
    "completions",
    "self_reported_hours",
    "recurring_series",
    "office_hour_bookings",
    "dead_letters",
    "api_keys",
)


def upgrade() -> None:
    add_change_markers(op, TABLES)
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "registration_hours",
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("sessions_attended", sa.Integer(), nullable=False),
        sa.Column("sessions_marked", sa.Integer(), nullable=False),
        sa.Column(
            "change",
            sa.BigInteger(),
            nullable=False,
            server_default=sa.text(POSTGRESQL_DEFAULT) if postgresql else sa.text("1"),
        ),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["registrations.id"], name=op.f("fk_registration_hours_registration_id_registrations")
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_registration_hours")),
    )
    op.create_index("ix_registration_hours_change", "registration_hours", ["change"], unique=False)
    op.create_index("ix_registration_hours_updated_at", "registration_hours", ["updated_at"], unique=False)
    op.create_index(
        "ix_registration_hours_sync", "registration_hours", ["tenant", "change", "registration_id"], unique=False
    )
    op.create_index(
        "ix_registration_hours_updated", "registration_hours", ["tenant", "updated_at", "registration_id"], unique=False
    )
    op.create_index("ix_completions_registration_id", "completions", ["registration_id"], unique=False)
    op.create_index("ix_self_reported_hours_sync", "self_reported_hours", ["tenant", "change", "id"], unique=False)
    op.create_index(
        "ix_self_reported_hours_updated", "self_reported_hours", ["tenant", "updated_at", "id"], unique=False
    )
    op.get_bind().execute(
        sa.text("""
        INSERT INTO registration_hours (registration_id, tenant, cohort_id, minutes, sessions_attended,
                                        sessions_marked, created_at, updated_at)
        SELECT a.registration_id, r.tenant, r.cohort_id,
               SUM(CASE WHEN a.status IN ('present', 'partial') AND s.status != 'cancelled' THEN a.minutes ELSE 0 END),
               SUM(CASE WHEN a.status IN ('present', 'partial') AND s.status != 'cancelled' THEN 1 ELSE 0 END),
               SUM(CASE WHEN s.status != 'cancelled' THEN 1 ELSE 0 END), :now, :now
        FROM attendance AS a JOIN sessions AS s ON s.id = a.session_id
             JOIN registrations AS r ON r.id = a.registration_id
        GROUP BY a.registration_id, r.tenant, r.cohort_id""").bindparams(
            sa.bindparam("now", datetime.now(UTC), type_=shared.db.UTCDateTime())
        )
    )


def downgrade() -> None:
    op.drop_index("ix_self_reported_hours_updated", table_name="self_reported_hours")
    op.drop_index("ix_self_reported_hours_sync", table_name="self_reported_hours")
    op.drop_index("ix_completions_registration_id", table_name="completions")
    op.drop_table("registration_hours")
    drop_change_markers(op, TABLES)
