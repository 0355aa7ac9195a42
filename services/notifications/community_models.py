"""Notifications' tables for learning communities: who belongs to which community (and under which
jurisdiction their contact point is kept), the calls it has heard of, and their reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.notifications.models import Base
from shared.db import IdMixin, UTCDateTime


class CommunityMembership(Base):
    """A member of a community as content last announced it; ``tenant`` is where their contact point is kept
    (their jurisdiction, or the national tenant for staff and guest experts without one)."""

    __tablename__ = "community_memberships"

    community_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KnownCall(Base):
    """The latest state of a community call or audio-conference, from scheduling's events."""

    __tablename__ = "known_calls"

    call_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    community_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict] = mapped_column(JSON)


class CallReminder(IdMixin, Base):
    """A reminder due before a call for one invitee; moved when the call moves, dropped on cancel."""

    __tablename__ = "call_reminders"
    __table_args__ = (
        UniqueConstraint("call_id", "person", "minutes_before"),
        Index("ix_call_reminders_due", "status", "due_at"),
    )

    tenant: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    person: Mapped[str] = mapped_column(String(200))
    minutes_before: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, dropped
