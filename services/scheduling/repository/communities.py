"""Queries of communities, their members and calls, and audio-conference registrations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from services.scheduling.community_models import (
    AudioConferenceRegistration,
    CallAttendance,
    Community,
    CommunityCall,
    CommunityMember,
)
from services.scheduling.domain.communities import AUDIO_CONFERENCE, Membership
from shared.db import locking


def community(db: DbSession, community_id: str, *, for_update: bool = False) -> Community | None:
    if len(community_id) > 36:
        return None
    stmt = select(Community).where(Community.id == community_id)
    if for_update:
        stmt = locking(db, stmt)
    return db.scalars(stmt).first()


def member(db: DbSession, community_id: str, sub: str) -> CommunityMember | None:
    return db.get(CommunityMember, (community_id, sub))


def memberships(db: DbSession, community_id: str) -> list[Membership]:
    rows = db.scalars(select(CommunityMember).where(CommunityMember.community_id == community_id))
    return [Membership(r.member, r.kind, r.jurisdiction, r.active) for r in rows]


def call(db: DbSession, call_id: str, *, for_update: bool = False) -> CommunityCall | None:
    if len(call_id) > 36:
        return None
    stmt = select(CommunityCall).where(CommunityCall.id == call_id)
    if for_update:
        stmt = locking(db, stmt)
    return db.scalars(stmt).first()


def calls_of_community(community_id: str, *, status: str | None = None):
    stmt = select(CommunityCall).where(CommunityCall.community_id == community_id)
    if status:
        stmt = stmt.where(CommunityCall.status == status)
    return stmt


def all_calls_of_community(db: DbSession, community_id: str) -> list[CommunityCall]:
    return list(db.scalars(calls_of_community(community_id).order_by(CommunityCall.starts_at, CommunityCall.id)))


def audio_conferences(*, status: str | None = None):
    stmt = select(CommunityCall).where(CommunityCall.kind == AUDIO_CONFERENCE)
    if status:
        stmt = stmt.where(CommunityCall.status == status)
    return stmt


def attendance(db: DbSession, call_id: str) -> list[CallAttendance]:
    return list(
        db.scalars(select(CallAttendance).where(CallAttendance.call_id == call_id).order_by(CallAttendance.person))
    )


def registration(db: DbSession, call_id: str, person: str) -> AudioConferenceRegistration | None:
    return db.scalars(
        select(AudioConferenceRegistration).where(
            AudioConferenceRegistration.call_id == call_id, AudioConferenceRegistration.person == person
        )
    ).first()


def registrations(call_id: str, *, person: str | None = None):
    stmt = select(AudioConferenceRegistration).where(AudioConferenceRegistration.call_id == call_id)
    if person is not None:
        stmt = stmt.where(AudioConferenceRegistration.person == person)
    return stmt


def registrants(db: DbSession, call_id: str) -> list[str]:
    return sorted(
        db.scalars(select(AudioConferenceRegistration.person).where(AudioConferenceRegistration.call_id == call_id))
    )
