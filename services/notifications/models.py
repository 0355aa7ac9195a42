"""Notifications' tables: contact points, preferences, the sessions it has heard of, reminders and the delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.changes import ChangeMixin
from shared.db import IdMixin, TimestampMixin, UTCDateTime, make_base, utcnow
from shared.tables import define_platform_tables

Base = make_base()
platform = define_platform_tables(Base)
ChangeCounter = platform.change_counter


class ContactPoint(IdMixin, TimestampMixin, ChangeMixin, Base):
    """How to reach one person of a jurisdiction: e-mail, time zone, language, and a supervisor to copy."""

    __tablename__ = "contact_points"
    # It also finds a jurisdiction's contact points: no index of their own on tenant.
    __table_args__ = (UniqueConstraint("tenant", "person"),)

    tenant: Mapped[str] = mapped_column(String(40))
    person: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    supervisor_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # When the name and e-mail held were given (a registration, a community, a state system; null: not
    # known): the latest given is kept (``domain.contacts.takes_contact``).
    contact_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JurisdictionPreference(TimestampMixin, ChangeMixin, Base):
    """A jurisdiction's default for one kind of notification (on or off by e-mail; copy the supervisor)."""

    __tablename__ = "jurisdiction_preferences"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    copy_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)


class PersonPreference(TimestampMixin, ChangeMixin, Base):
    """One person's override for one kind of notification on one channel."""

    __tablename__ = "person_preferences"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    digest: Mapped[str] = mapped_column(String(10), default="none")  # none, hourly, daily


class KnownSession(Base):
    """The latest state of a session, from scheduling's events: what reminders and invites are made from."""

    __tablename__ = "known_sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40), index=True)
    cohort_id: Mapped[str] = mapped_column(String(36), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict] = mapped_column(JSON)


class TrainerSpecialist(Base):
    """Who supports a trainer, from coaching's plan events: whom an adaptation the trainer submits is told to,
    and the trainer's name for that specialist's e-mails."""

    __tablename__ = "trainer_specialists"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    trainer: Mapped[str] = mapped_column(String(200), primary_key=True)
    specialist: Mapped[str] = mapped_column(String(200))
    # As they registered for the training (null when no plan event named them): a specialist's e-mails say it.
    trainer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The event that named them: a late, older event does not undo a newer assignment.
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class DefaultSpecialist(Base):
    """Whom a jurisdiction's new plans get as their specialist, from ``coaching.default_specialist.changed``:
    told of an adaptation whose facilitator has no specialist of their own (a trainer trained before the
    platform, with no plan)."""

    __tablename__ = "default_specialists"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    specialist: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: nobody
    # The event that named them: a late, older event does not undo a newer choice.
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class UnheardAdaptation(Base):
    """An adaptation submitted while notifications knew nobody to review it: no specialist of the facilitator's
    own, no default specialist. Kept for the event that names one, which may arrive after the adaptation
    though written before it (another service, another queue): that specialist is then told."""

    __tablename__ = "unheard_adaptations"
    __table_args__ = (Index("ix_unheard_adaptations_submitted", "tenant", "submitted_at"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40))
    facilitator: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the event's time
    event: Mapped[str] = mapped_column(Text)  # as received, to be handled again


class UndeliverableAddress(TimestampMixin, ChangeMixin, Base):
    """An address whose mail server refused it for good (``domain/bounces.py``): no message is sent to it
    until it is cleared, by a jurisdiction admin or by a message it accepts. Kept once cleared, so a
    state system syncing the list sees the correction."""

    __tablename__ = "undeliverable_addresses"

    tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(320), primary_key=True)  # domain.bounces.address_key
    address: Mapped[str] = mapped_column(String(320))  # as the refused message was sent
    reply: Mapped[str] = mapped_column(Text)  # the mail server's answer, e.g. "550 5.1.1 No such user"
    message_id: Mapped[str] = mapped_column(String(200))  # the refused message's Message-ID
    refused_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # None: set aside
    cleared_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who, or "accepted"


class Reminder(IdMixin, Base):
    """A reminder due before a session for one registrant; moved when the session moves, dropped on cancel."""

    __tablename__ = "reminders"
    __table_args__ = (
        # It also finds a session's reminders: no index of their own on session_id.
        UniqueConstraint("session_id", "person", "minutes_before"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    session_id: Mapped[str] = mapped_column(String(36))
    person: Mapped[str] = mapped_column(String(200))
    minutes_before: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, dropped


class Delivery(IdMixin, ChangeMixin, Base):
    """One message to one recipient on one channel: the delivery log, and the queue of messages to send.

    Unique by (event, recipient, channel, template): an event handled twice, or by two consumers at
    once, makes one message. Its ``message_id`` is fixed when the row is written, so a message sent
    again after a crash carries the same Message-ID and its receiver can recognise it.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel", "template"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    event_id: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(120))
    recipient: Mapped[str] = mapped_column(String(320))
    person: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(120))  # a template, or a webhook's event type
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(400))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    invite: Mapped[str | None] = mapped_column(Text, nullable=True)
    # pending (to send), sending (claimed; sent or not, unknown until recorded), sent, failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ambiguous_sends: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A message held for its recipient's digest (status "held" until the window ends, then "digested"):
    # the window's end, what it is about (one line per key in the digest), and its line.
    digest_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    digest_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When its subject and bodies were deleted (``MESSAGE_CONTENT_RETENTION_DAYS`` after it was written,
    # once settled): the row stays, for "did Ana get her invitation?", until ``DELIVERY_LOG_RETENTION_DAYS``.
    content_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# Support finds the messages of one address, however it was typed: "did Ana get her invitation?"
Index("ix_deliveries_recipient", Delivery.tenant, func.lower(Delivery.recipient))
# Retention finds the oldest messages whose content is kept (null first), then those whose content went.
Index("ix_deliveries_retention", Delivery.content_deleted_at, Delivery.created_at)


class WebhookSubscription(IdMixin, TimestampMixin, ChangeMixin, Base):
    """A state system's endpoint: the event types it wants, signed with its secret (Standard Webhooks)."""

    __tablename__ = "webhook_subscriptions"

    tenant: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, disabled (failing), deleted
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))


class Jurisdiction(Base):
    """A Tribe notifications has learnt of from scheduling (``scheduling.jurisdiction.added``): one of its tenants."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    default_time_zone: Mapped[str] = mapped_column(String(64))
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Learning communities' tables live in their own module, on this Base (imported last: it needs Base).
from services.notifications import community_models  # noqa: E402,F401
