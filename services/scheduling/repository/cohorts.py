"""Cohorts' and their sessions' queries and locks: what closing, cancelling and scheduling read and hold."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session as DbSession

from services.scheduling.domain import registrations as registration_rules
from services.scheduling.domain import sessions as session_rules
from services.scheduling.models import Attendance, Cohort, Registration, Room, TrainingSession
from shared.db import is_postgres


def hold_cohort_exclusively(db: DbSession, cohort_id: str) -> None:
    """FOR UPDATE on the cohort's row (PostgreSQL; SQLite runs one writer at a time anyway).

    Stronger than ``registrations.lock_cohort``: it waits for, and then stops, the FOR KEY SHARE of
    ``cohort_for_scheduling``, and attendance's marks, which take the same lock.
    """
    if is_postgres(db):
        db.execute(select(Cohort.id).where(Cohort.id == cohort_id).with_for_update())


def cohort_for_scheduling(db: DbSession, cohort_id: str) -> Cohort:
    """The cohort under FOR KEY SHARE, with its status as of the lock.

    A cohort being cancelled (which holds FOR UPDATE) is waited for, so its new status is seen.
    """
    return db.scalars(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .with_for_update(read=True, key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def scheduled_sessions_locked(db: DbSession, cohort_id: str) -> list[TrainingSession]:
    """The cohort's sessions still scheduled, locked, in time order, re-read as they are now."""
    return list(
        db.scalars(
            select(TrainingSession)
            .where(TrainingSession.cohort_id == cohort_id, TrainingSession.status == session_rules.SCHEDULED)
            .order_by(TrainingSession.starts_at, TrainingSession.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def active_registrations(db: DbSession, cohort_id: str) -> list[Registration]:
    """The cohort's confirmed, waitlisted and pending registrations, re-read as they are now."""
    return list(
        db.scalars(
            select(Registration)
            .where(Registration.cohort_id == cohort_id, Registration.status.in_(registration_rules.ACTIVE))
            .order_by(Registration.participant, Registration.id)
            .execution_options(populate_existing=True)
        )
    )


def confirmed_participants(db: DbSession, cohort_id: str) -> list[str]:
    """The cohort's confirmed participants, in order: who a session change must reach."""
    return list(
        db.scalars(
            select(Registration.participant)
            .where(Registration.cohort_id == cohort_id, Registration.status == registration_rules.CONFIRMED)
            .order_by(Registration.participant)
        )
    )


def room_in(db: DbSession, room_id: str, tenant: str) -> Room | None:
    """The room, if it is the jurisdiction's."""
    return db.scalars(select(Room).where(Room.id == room_id, Room.tenant == tenant)).first()


def has_attendance(db: DbSession, session_id: str) -> bool:
    """True once anyone is marked in the session."""
    return bool(db.scalar(select(exists().where(Attendance.session_id == session_id))))


def marked_registrations(db: DbSession, session_id: str) -> list[str]:
    """The registrations marked in the session (present or absent)."""
    return list(db.scalars(select(Attendance.registration_id).where(Attendance.session_id == session_id)))
