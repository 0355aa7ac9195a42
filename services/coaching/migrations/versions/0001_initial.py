"""The coaching service's tables, with the platform's own (outbox, inbox, dead letters, idempotency
keys, API keys, unfinished runs, change counter)

Revision ID: 0001
Revises:
Create Date: 2026-12-05 06:36:05.995090
"""

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.changes import add_change_markers, drop_change_markers
from shared.migrations import create_platform_tables, drop_platform_tables

# The platform's synced tables; coaching's own carry their markers in their definitions below.
PLATFORM_SYNCED = ("api_keys", "dead_letters")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table(
        "consent_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_tenant"), ["tenant"], unique=False)

    op.create_table(
        "delivery_sessions",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("series_id", sa.String(length=36), nullable=False),
        sa.Column("facilitators", sa.JSON(), nullable=False),
        sa.Column("starts_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("held_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reached", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_delivery_sessions")),
    )
    with op.batch_alter_table("delivery_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_sessions_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_sessions_tenant"), ["tenant"], unique=False)

    op.create_table(
        "fidelity_observations",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("observer", sa.String(length=200), nullable=False),
        sa.Column("cohort_id", sa.String(length=36), nullable=True),
        sa.Column("session_position", sa.Integer(), nullable=False),
        sa.Column("practice", sa.String(length=60), nullable=True),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fidelity_observations")),
    )
    with op.batch_alter_table("fidelity_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fidelity_observations_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_fidelity_observations_tenant"), ["tenant"], unique=False)
        batch_op.create_index(batch_op.f("ix_fidelity_observations_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index("ix_fidelity_tenant_trainer", ["tenant", "trainer", "observed_on"], unique=False)

    op.create_table(
        "jurisdiction_settings",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("default_specialist", sa.String(length=200), nullable=True),
        sa.Column("default_time_frame_months", sa.Integer(), nullable=False),
        sa.Column("national_consent", sa.Boolean(), nullable=False),
        sa.Column("consent_changed_by", sa.String(length=200), nullable=True),
        sa.Column("consent_changed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_jurisdiction_settings")),
    )
    with op.batch_alter_table("jurisdiction_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jurisdiction_settings_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "jurisdictions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("default_time_zone", sa.String(length=64), nullable=False),
        sa.Column("announced_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jurisdictions")),
    )
    op.create_table(
        "notes_audit",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes_audit")),
    )
    with op.batch_alter_table("notes_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_audit_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notes_audit_tenant"), ["tenant"], unique=False)

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("sent_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("subject_id", "kind", name=op.f("uq_notices_subject_id")),
    )
    op.create_table(
        "plans",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("registry_id", sa.String(length=100), nullable=True),
        sa.Column("specialist", sa.String(length=200), nullable=True),
        sa.Column("series_id", sa.String(length=36), nullable=False),
        sa.Column("cohort_id", sa.String(length=36), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("completed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("certificate_code", sa.String(length=100), nullable=True),
        sa.Column("opened_by", sa.String(length=20), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("tenant", "registration_id", name=op.f("uq_plans_tenant")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_tenant"), ["tenant"], unique=False)
        batch_op.create_index("ix_plans_tenant_specialist", ["tenant", "specialist"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_trainer"), ["trainer"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "trainer_series",
        sa.Column("series_id", sa.String(length=36), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_trainer_series")),
    )
    op.create_table(
        "activities",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("people_present", sa.JSON(), nullable=False),
        sa.Column("practices", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("strengths", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("booking_id", sa.String(length=100), nullable=True),
        sa.Column("slot_end", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_activities_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_activities_booking_id")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_change"), ["change"], unique=False)
        batch_op.create_index("ix_activities_follow_up", ["follow_up_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_tenant"), ["tenant"], unique=False)
        batch_op.create_index("ix_activities_tenant_trainer", ["tenant", "trainer"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "commitments",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("time_frame_months", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("agreed_by", sa.JSON(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.Column("agreement_recorded_by", sa.String(length=200), nullable=True),
        sa.Column("delivery_scheduled_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_session_held_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_completed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_on", sa.Date(), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=20), nullable=True),
        sa.Column("delivery_cohort_id", sa.String(length=36), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_recorded_by", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_commitments_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_commitments_plan_id")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitments_change"), ["change"], unique=False)
        batch_op.create_index("ix_commitments_open_due", ["fulfilled_on", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_tenant"), ["tenant"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_trainer"), ["trainer"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "activity_revisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_activity_revisions_activity_id_activities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_revisions")),
        sa.UniqueConstraint("activity_id", "revision", name=op.f("uq_activity_revisions_activity_id")),
    )
    with op.batch_alter_table("activity_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_revisions_activity_id"), ["activity_id"], unique=False)
    add_change_markers(op, PLATFORM_SYNCED)


def downgrade() -> None:
    drop_change_markers(op, PLATFORM_SYNCED)
    with op.batch_alter_table("activity_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_revisions_activity_id"))

    op.drop_table("activity_revisions")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_updated_at"))
        batch_op.drop_index(batch_op.f("ix_commitments_trainer"))
        batch_op.drop_index(batch_op.f("ix_commitments_tenant"))
        batch_op.drop_index("ix_commitments_open_due")
        batch_op.drop_index(batch_op.f("ix_commitments_change"))

    op.drop_table("commitments")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_updated_at"))
        batch_op.drop_index("ix_activities_tenant_trainer")
        batch_op.drop_index(batch_op.f("ix_activities_tenant"))
        batch_op.drop_index(batch_op.f("ix_activities_plan_id"))
        batch_op.drop_index("ix_activities_follow_up")
        batch_op.drop_index(batch_op.f("ix_activities_change"))
        batch_op.drop_index(batch_op.f("ix_activities_author"))

    op.drop_table("activities")
    op.drop_table("trainer_series")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_updated_at"))
        batch_op.drop_index(batch_op.f("ix_plans_trainer"))
        batch_op.drop_index("ix_plans_tenant_specialist")
        batch_op.drop_index(batch_op.f("ix_plans_tenant"))
        batch_op.drop_index(batch_op.f("ix_plans_cohort_id"))
        batch_op.drop_index(batch_op.f("ix_plans_change"))

    op.drop_table("plans")
    op.drop_table("notices")
    with op.batch_alter_table("notes_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_audit_tenant"))
        batch_op.drop_index(batch_op.f("ix_notes_audit_activity_id"))

    op.drop_table("notes_audit")
    op.drop_table("jurisdictions")
    with op.batch_alter_table("jurisdiction_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jurisdiction_settings_updated_at"))

    op.drop_table("jurisdiction_settings")
    with op.batch_alter_table("fidelity_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_fidelity_tenant_trainer")
        batch_op.drop_index(batch_op.f("ix_fidelity_observations_updated_at"))
        batch_op.drop_index(batch_op.f("ix_fidelity_observations_tenant"))
        batch_op.drop_index(batch_op.f("ix_fidelity_observations_change"))

    op.drop_table("fidelity_observations")
    with op.batch_alter_table("delivery_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_sessions_tenant"))
        batch_op.drop_index(batch_op.f("ix_delivery_sessions_cohort_id"))

    op.drop_table("delivery_sessions")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_tenant"))

    op.drop_table("consent_records")
    drop_platform_tables(op)
