"""Scheduling's tables of learning communities: what it keeps of each community (from content's events),
its calls and meetings, their attendance, and the registrations for national audio-conferences.

A community is national: its calls carry the national tenant, and who may see them is decided by
membership (``domain/communities.py``), not by the caller's jurisdiction alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.scheduling.models import Base
from shared.changes import ChangeMixin
from shared.db import IdMixin, TimestampMixin, UTCDateTime


class Community(TimestampMixin, Base):
    """A learning community as content last announced it (``content.community.convened|updated``)."""

    __tablename__ = "communities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # content's community id
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    time_zone: Mapped[str] = mapped_column(String(64))
    facilitators: Mapped[list] = mapped_column(JSON, default=list)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the event time of what is kept


class CommunityMember(Base):
    """One person's membership, as the latest of content's joined/left events says (kept after leaving)."""

    __tablename__ = "community_members"

    community_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # team_member, staff, guest_expert
    jurisdiction: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommunityCall(IdMixin, TimestampMixin, ChangeMixin, Base):
    """One call or meeting of a community, or a national audio-conference (``community_id`` None).

    A recurring programme is stored one row per occurrence, each with its own agenda, minutes,
    attendance and SEQUENCE; ``series_id`` groups the rows one recurrence rule made.
    """

    __tablename__ = "community_calls"
    __table_args__ = (Index("ix_community_calls_community_start", "community_id", "starts_at"),)

    tenant: Mapped[str] = mapped_column(String(40), index=True)  # the national tenant
    community_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    series_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    time_zone: Mapped[str] = mapped_column(String(64))
    place: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    meeting_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled, cancelled
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))


class CallAttendance(TimestampMixin, ChangeMixin, Base):
    """Whether a member came to a call: one mark per person, changed in place."""

    __tablename__ = "community_call_attendance"

    call_id: Mapped[str] = mapped_column(ForeignKey("community_calls.id"), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # present, absent
    recorded_by: Mapped[str] = mapped_column(String(200))


class AudioConferenceRegistration(IdMixin, TimestampMixin, ChangeMixin, Base):
    """One person registered for a national audio-conference; at most one per person."""

    __tablename__ = "audio_conference_registrations"
    __table_args__ = (UniqueConstraint("call_id", "person"),)

    call_id: Mapped[str] = mapped_column(ForeignKey("community_calls.id"), index=True)
    person: Mapped[str] = mapped_column(String(200))
    tenant: Mapped[str] = mapped_column(String(40), index=True)  # the registrant's jurisdiction
    name: Mapped[str] = mapped_column(String(300), default="")
