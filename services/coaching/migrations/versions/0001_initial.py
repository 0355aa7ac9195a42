"""The coaching service's tables, with the platform's own (outbox, inbox, dead letters, idempotency
keys, API keys, unfinished runs, change counter)

Revision ID: 0001
Revises:
Create Date: 2026-12-05 06:36:05.995090
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_tenant"), ["tenant"], unique=False)

    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    # SQLite numbers its write transactions from this one row (shared.changes).
    op.bulk_insert(counter, [{"id": 1, "value": 1}])
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
        "dead_letters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=120), nullable=True),
        sa.Column("tenant", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replayed_by", sa.String(length=200), nullable=True),
        sa.Column("change", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("queue", "message_key", name=op.f("uq_dead_letters_queue")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_change"), ["change"], unique=False)
        batch_op.create_index(batch_op.f("ix_dead_letters_queue"), ["queue"], unique=False)
        batch_op.create_index(batch_op.f("ix_dead_letters_status"), ["status"], unique=False)

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
        "idempotency_keys",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "principal", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False)

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("handled_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_handled_at", ["handled_at"], unique=False)

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
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("exchange", sa.String(length=200), nullable=False),
        sa.Column("routing_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["status", "id"], unique=False)

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
        "unfinished_runs",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("started_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_unfinished_runs")),
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


def downgrade() -> None:
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
    op.drop_table("unfinished_runs")
    op.drop_table("trainer_series")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_updated_at"))
        batch_op.drop_index(batch_op.f("ix_plans_trainer"))
        batch_op.drop_index("ix_plans_tenant_specialist")
        batch_op.drop_index(batch_op.f("ix_plans_tenant"))
        batch_op.drop_index(batch_op.f("ix_plans_cohort_id"))
        batch_op.drop_index(batch_op.f("ix_plans_change"))

    op.drop_table("plans")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    op.drop_table("notices")
    with op.batch_alter_table("notes_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_audit_tenant"))
        batch_op.drop_index(batch_op.f("ix_notes_audit_activity_id"))

    op.drop_table("notes_audit")
    op.drop_table("jurisdictions")
    with op.batch_alter_table("jurisdiction_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jurisdiction_settings_updated_at"))

    op.drop_table("jurisdiction_settings")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_handled_at")

    op.drop_table("inbox")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
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
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_status"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_queue"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_change"))

    op.drop_table("dead_letters")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_tenant"))

    op.drop_table("consent_records")
    op.drop_table("change_counter")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_tenant"))
        batch_op.drop_index(batch_op.f("ix_api_keys_change"))

    op.drop_table("api_keys")
