"""Coaching's tables: plans and commitments, support activities with their history and audit, fidelity,
what the scheduled checks have sent, deliveries seen in scheduling, and each jurisdiction's settings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from shared.changes import ChangeMixin
from shared.db import IdMixin, TimestampMixin, UTCDateTime, make_base, new_id, utcnow
from shared.tables import define_platform_tables

Base = make_base()
platform = define_platform_tables(Base)
ChangeCounter = platform.change_counter


class SpecialistName(Base):
    """The name a specialist is known by in a jurisdiction, as their sign-in last gave it.

    Plans name their specialist by subject; the trainer reads the name on their commitment. The portal
    enters a specialist at each sign-in, and logging support refreshes it; jurisdiction admins and state
    systems enter those who have not signed in yet, and withdraw those who left.
    """

    __tablename__ = "specialist_names"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    sub: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set while withdrawn: no longer offered as a plan's specialist; the plans that name them still do.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Jurisdiction(Base):
    """A Tribe coaching has learnt of from scheduling (``scheduling.jurisdiction.added``): one of its tenants."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    default_time_zone: Mapped[str] = mapped_column(String(64))
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JurisdictionSettings(TimestampMixin, Base):
    """A jurisdiction's defaults for new plans, and its consent to national roll-ups."""

    __tablename__ = "jurisdiction_settings"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    default_specialist: Mapped[str | None] = mapped_column(String(200), nullable=True)
    default_time_frame_months: Mapped[int] = mapped_column(Integer, default=6)
    national_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_changed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ConsentRecord(Base):
    """Each grant or withdrawal of consent to national roll-ups: who, when, which."""

    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrainerSeries(Base):
    """A series of content's that is the training for trainers: completing it opens a plan."""

    __tablename__ = "trainer_series"

    series_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Plan(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A trainer's implementation plan, opened once by their completion of the training for trainers."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("tenant", "registration_id"),
        Index("ix_plans_tenant_specialist", "tenant", "specialist"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trainer: Mapped[str] = mapped_column(String(200), index=True)
    # The name the trainer registered under in scheduling, so people see a name, not a sub.
    trainer_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    registry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    specialist: Mapped[str | None] = mapped_column(String(200), nullable=True)
    series_id: Mapped[str] = mapped_column(String(36))
    cohort_id: Mapped[str] = mapped_column(String(36), index=True)
    registration_id: Mapped[str] = mapped_column(String(36))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    certificate_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    opened_by: Mapped[str] = mapped_column(String(20))  # "event" or "backfill"
    # The specialist by the name coaching knows them by, read with the plan; entering or renaming a
    # specialist marks the plans naming them changed (``repository.remember_specialist_name``).
    specialist_name: Mapped[str | None] = column_property(
        select(SpecialistName.name)
        .where(SpecialistName.tenant == tenant, SpecialistName.sub == specialist)
        .correlate_except(SpecialistName)
        .scalar_subquery()
    )

    commitment: Mapped[Commitment] = relationship(back_populates="plan", uselist=False)


class Commitment(IdMixin, TimestampMixin, ChangeMixin, Base):
    """The trainer's commitment to deliver the training in their community by a due date."""

    __tablename__ = "commitments"
    __table_args__ = (Index("ix_commitments_open_due", "fulfilled_on", "due_on"),)

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), unique=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trainer: Mapped[str] = mapped_column(String(200), index=True)
    time_frame_months: Mapped[int] = mapped_column(Integer, default=6)
    due_on: Mapped[date] = mapped_column(Date)
    agreed_by: Mapped[list] = mapped_column(JSON, default=list)
    agreed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    agreement_recorded_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivery_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_session_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivery_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fulfilled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    fulfilled_by: Mapped[str | None] = mapped_column(String(20), nullable=True)  # "cohort" or "evidence"
    delivery_cohort_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_recorded_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    plan: Mapped[Plan] = relationship(back_populates="commitment")


class DeliverySession(Base):
    """A session scheduling told us of, as far as a trainer's delivery needs it (facilitators, held or not)."""

    __tablename__ = "delivery_sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    cohort_id: Mapped[str] = mapped_column(String(36), index=True)
    series_id: Mapped[str] = mapped_column(String(36))
    facilitators: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Participants marked present or partial: who the delivery reached (the reach cascade).
    reached: Mapped[list] = mapped_column(JSON, default=list)


class Activity(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A support activity a coach or specialist logged for a trainer; a draft until its author completes it."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_tenant_trainer", "tenant", "trainer"),
        Index("ix_activities_follow_up", "follow_up_on"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trainer: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"), nullable=True, index=True)
    author: Mapped[str] = mapped_column(String(200), index=True)
    # As the author's sign-in named them when they logged it; null for office hours' drafts (no sign-in).
    author_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="logged")
    kind: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(20))
    people_present: Mapped[list] = mapped_column(JSON, default=list)
    practices: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    booking_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ActivityRevision(Base):
    """What an activity said before an edit: edits keep their history, nothing is silently overwritten."""

    __tablename__ = "activity_revisions"
    __table_args__ = (UniqueConstraint("activity_id", "revision"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activities.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    written_by: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotesAudit(Base):
    """One write of an activity, or one read of its confidential notes: who, when, what."""

    __tablename__ = "notes_audit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    activity_id: Mapped[str] = mapped_column(String(36), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))  # "write" or "read"
    what: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FidelityObservation(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A specialist's observation of a trainer delivering one session, scored per core component."""

    __tablename__ = "fidelity_observations"
    __table_args__ = (Index("ix_fidelity_tenant_trainer", "tenant", "trainer", "observed_on"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    trainer: Mapped[str] = mapped_column(String(200))
    observer: Mapped[str] = mapped_column(String(200))
    cohort_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    session_position: Mapped[int] = mapped_column(Integer)
    practice: Mapped[str | None] = mapped_column(String(60), nullable=True)
    observed_on: Mapped[date] = mapped_column(Date)
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    score: Mapped[float] = mapped_column(Float)
    comments: Mapped[str] = mapped_column(Text, default="")


class Notice(Base):
    """A reminder the scheduled checks have sent; the unique key is what makes each one go exactly once."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("subject_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    tenant: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
