"""Tables every service keeps in its own database: outbox, inbox, dead letters, idempotency keys, API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.changes import ChangeMixin, define_change_counter
from shared.db import UTCDateTime, new_id, utcnow

OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
OUTBOX_UNROUTABLE = "unroutable"


@dataclass(frozen=True)
class PlatformTables:
    outbox: type
    inbox: type
    dead_letter: type
    idempotency_key: type
    api_key: type
    unfinished_run: type
    change_counter: type


def define_platform_tables(Base) -> PlatformTables:
    """Declare the shared tables on a service's own declarative base.

    With them comes the counter that numbers SQLite's write transactions (``shared.changes``): dead
    letters and API keys carry change markers, as every row a state system syncs does.
    """
    ChangeCounter = define_change_counter(Base)

    class OutboxMessage(Base):
        """An event written in the same transaction as the change it describes."""

        __tablename__ = "outbox"
        __table_args__ = (Index("ix_outbox_pending", "status", "id"),)

        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        message_id: Mapped[str] = mapped_column(String(100), unique=True)
        event_type: Mapped[str] = mapped_column(String(120))
        # "" is the default exchange: a replayed dead letter goes straight to one queue.
        exchange: Mapped[str] = mapped_column(String(200), default="events")
        routing_key: Mapped[str] = mapped_column(String(200))
        body: Mapped[str] = mapped_column(Text)
        status: Mapped[str] = mapped_column(String(16), default=OUTBOX_PENDING)
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    class InboxMessage(Base):
        """An event a consumer has handled; written in the same transaction as its effect."""

        __tablename__ = "inbox"
        # Housekeeping prunes by age (shared.housekeeping).
        __table_args__ = (Index("ix_inbox_handled_at", "handled_at"),)

        consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
        event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
        event_type: Mapped[str] = mapped_column(String(120))
        handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    class DeadLetter(ChangeMixin, Base):
        """A message a consumer gave up on, kept until a national admin replays or discards it."""

        __tablename__ = "dead_letters"
        __table_args__ = (UniqueConstraint("queue", "message_key"),)

        id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
        queue: Mapped[str] = mapped_column(String(200), index=True)
        message_key: Mapped[str] = mapped_column(String(200))
        event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
        event_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
        tenant: Mapped[str | None] = mapped_column(String(40), nullable=True)
        reason: Mapped[str] = mapped_column(Text, default="")
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        body: Mapped[str] = mapped_column(Text)
        status: Mapped[str] = mapped_column(String(16), default="dead", index=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
        replayed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    class UnfinishedRun(Base):
        """A handler run on a redelivered event that has not finished (yet).

        Written and committed before the handler starts, removed when it returns or raises: a row
        that stays counts the times the consumer's process died (crashed, killed, hung) while that
        very event was being handled, so the event that kills its consumer is told apart from the
        innocent ones the broker redelivers with it.
        """

        __tablename__ = "unfinished_runs"

        consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
        event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
        runs: Mapped[int] = mapped_column(Integer, default=0)
        started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    class IdempotencyKey(Base):
        """The stored answer to a create, replayed when a client retries with the same key."""

        __tablename__ = "idempotency_keys"

        tenant: Mapped[str] = mapped_column(String(40), primary_key=True)
        principal: Mapped[str] = mapped_column(String(200), primary_key=True)
        key: Mapped[str] = mapped_column(String(200), primary_key=True)
        endpoint: Mapped[str] = mapped_column(String(200))
        request_hash: Mapped[str] = mapped_column(String(64))
        status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
        response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
        response_headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    class ApiKey(ChangeMixin, Base):
        """A state system's key: only its SHA-256 is stored; scoped to one tenant and its roles."""

        __tablename__ = "api_keys"

        id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
        tenant: Mapped[str] = mapped_column(String(40), index=True)
        name: Mapped[str] = mapped_column(String(200))
        prefix: Mapped[str] = mapped_column(String(16), unique=True)
        key_hash: Mapped[str] = mapped_column(String(64))
        roles: Mapped[list] = mapped_column(JSON)
        created_by: Mapped[str] = mapped_column(String(200))
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        revoked: Mapped[bool] = mapped_column(Boolean, default=False)
        revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
        last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    return PlatformTables(OutboxMessage, InboxMessage, DeadLetter, IdempotencyKey, ApiKey, UnfinishedRun, ChangeCounter)
