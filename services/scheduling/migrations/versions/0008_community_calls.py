"""Learning communities' calls: communities and members as content announces them, calls and meetings
(one row per occurrence), their attendance, and registrations for national audio-conferences

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import shared.db
from shared.changes import POSTGRESQL_DEFAULT

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _change() -> sa.Column:
    postgresql = op.get_bind().dialect.name == "postgresql"
    default = sa.text(POSTGRESQL_DEFAULT) if postgresql else sa.text("1")
    return sa.Column("change", sa.BigInteger(), nullable=False, server_default=default)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("facilitators", sa.JSON(), nullable=False),
        sa.Column("announced_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )
    op.create_index("ix_communities_updated_at", "communities", ["updated_at"], unique=False)
    op.create_table(
        "community_members",
        sa.Column("community_id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("announced_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "member", name=op.f("pk_community_members")),
    )
    op.create_index("ix_community_members_jurisdiction", "community_members", ["jurisdiction"], unique=False)
    op.create_table(
        "community_calls",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("community_id", sa.String(length=36), nullable=True),
        sa.Column("series_id", sa.String(length=36), nullable=True),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("starts_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.JSON(), nullable=True),
        sa.Column("meeting_url", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        *_timestamps(),
        _change(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_calls")),
    )
    op.create_index("ix_community_calls_tenant", "community_calls", ["tenant"], unique=False)
    op.create_index("ix_community_calls_series_id", "community_calls", ["series_id"], unique=False)
    op.create_index("ix_community_calls_updated_at", "community_calls", ["updated_at"], unique=False)
    op.create_index("ix_community_calls_change", "community_calls", ["change"], unique=False)
    op.create_index(
        "ix_community_calls_community_start", "community_calls", ["community_id", "starts_at"], unique=False
    )
    op.create_table(
        "community_call_attendance",
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        *_timestamps(),
        _change(),
        sa.ForeignKeyConstraint(
            ["call_id"], ["community_calls.id"], name=op.f("fk_community_call_attendance_call_id_community_calls")
        ),
        sa.PrimaryKeyConstraint("call_id", "person", name=op.f("pk_community_call_attendance")),
    )
    op.create_index(
        "ix_community_call_attendance_updated_at", "community_call_attendance", ["updated_at"], unique=False
    )
    op.create_index("ix_community_call_attendance_change", "community_call_attendance", ["change"], unique=False)
    op.create_table(
        "audio_conference_registrations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        *_timestamps(),
        _change(),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["community_calls.id"],
            name=op.f("fk_audio_conference_registrations_call_id_community_calls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audio_conference_registrations")),
        sa.UniqueConstraint("call_id", "person", name=op.f("uq_audio_conference_registrations_call_id")),
    )
    for column in ("call_id", "tenant", "updated_at", "change"):
        op.create_index(
            f"ix_audio_conference_registrations_{column}", "audio_conference_registrations", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("audio_conference_registrations")
    op.drop_table("community_call_attendance")
    op.drop_table("community_calls")
    op.drop_table("community_members")
    op.drop_table("communities")
