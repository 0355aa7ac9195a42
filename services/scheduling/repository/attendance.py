"""Attendance's queries and locks: a session's marks, a cohort's roster, and what the completion rule counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session as DbSession

from services.scheduling.domain import attendance as rules
from services.scheduling.models import (
    Attendance,
    Cohort,
    Completion,
    Registration,
    TrainingSession,
)
from shared.db import is_postgres


def take_write_lock_first(db: DbSession) -> None:
    """On SQLite, take the database's write lock before anything is read (PostgreSQL: nothing to do).

    SQLite has no row locks, and a transaction that read before another committed cannot write
    afterwards (a stale WAL snapshot fails at once). A write that matches no row, before any read,
    takes the write lock now: concurrent sheets wait for each other instead.
    """
    if not is_postgres(db):
        db.execute(
            update(Cohort).where(false()).values(status=Cohort.status).execution_options(synchronize_session=False)
        )


def reread_under_lock(db: DbSession, row) -> None:
    """Re-read ``row`` after a lock was taken (PostgreSQL), so its state is as of the lock, not the first read.

    SQLite's writers hold the whole database from their first statement (``take_write_lock_first``).
    """
    if is_postgres(db):
        db.refresh(row)


def registrations_in_cohort(db: DbSession, cohort_id: str, registration_ids: list[str]) -> dict[str, Registration]:
    """Those of ``registration_ids`` that are the cohort's, by id (another cohort's are left out)."""
    return {
        r.id: r
        for r in db.scalars(
            select(Registration).where(Registration.cohort_id == cohort_id, Registration.id.in_(registration_ids))
        )
    }


def marks_of(db: DbSession, session_id: str, registration_ids: list[str] | None = None) -> dict[str, Attendance]:
    """The session's marks by registration: of ``registration_ids`` only, when given."""
    stmt = select(Attendance).where(Attendance.session_id == session_id)
    if registration_ids is not None:
        stmt = stmt.where(Attendance.registration_id.in_(registration_ids))
    return {a.registration_id: a for a in db.scalars(stmt)}


def cohort_registrations(db: DbSession, cohort_id: str) -> list[Registration]:
    """Every registration of the cohort, whatever its status."""
    return list(db.scalars(select(Registration).where(Registration.cohort_id == cohort_id)))


def attendance_counts(db: DbSession, session_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per session: (registrations marked, confirmed registrations of its cohort not marked yet), two queries."""
    marked = dict(
        db.execute(
            select(Attendance.session_id, func.count())
            .where(Attendance.session_id.in_(session_ids))
            .group_by(Attendance.session_id)
        ).all()
    )
    has_mark = (
        select(Attendance.id)
        .where(Attendance.session_id == TrainingSession.id, Attendance.registration_id == Registration.id)
        .exists()
    )
    unmarked = dict(
        db.execute(
            select(TrainingSession.id, func.count(Registration.id))
            .join(Registration, Registration.cohort_id == TrainingSession.cohort_id)
            .where(TrainingSession.id.in_(session_ids), Registration.status == rules.CONFIRMED, ~has_mark)
            .group_by(TrainingSession.id)
        ).all()
    )
    return {session_id: (marked.get(session_id, 0), unmarked.get(session_id, 0)) for session_id in session_ids}


def cancelled_sessions(db: DbSession, cohort_id: str) -> int:
    return db.scalar(
        select(func.count())
        .select_from(TrainingSession)
        .where(TrainingSession.cohort_id == cohort_id, TrainingSession.status == rules.CANCELLED)
    )


def attended_totals(db: DbSession, cohort_id: str, registration_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Sessions attended (present or partial) and minutes credited per registration, over held sessions."""
    ids = list(registration_ids)
    if not ids:
        return {}
    stmt = (
        select(Attendance.registration_id, func.count(), func.sum(Attendance.minutes))
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(
            TrainingSession.cohort_id == cohort_id,
            TrainingSession.status != rules.CANCELLED,
            Attendance.status.in_(rules.ATTENDED),
            Attendance.registration_id.in_(ids),
        )
        .group_by(Attendance.registration_id)
    )
    return {rid: (int(count), int(minutes or 0)) for rid, count, minutes in db.execute(stmt)}


def completed_among(db: DbSession, cohort_id: str, registration_ids: list[str]) -> set[str]:
    """Those of ``registration_ids`` that have completed the cohort."""
    return set(
        db.scalars(
            select(Completion.registration_id).where(
                Completion.cohort_id == cohort_id, Completion.registration_id.in_(registration_ids)
            )
        )
    )


def has_completed(db: DbSession, cohort_id: str, registration_id: str) -> bool:
    return (
        db.scalar(
            select(Completion.id).where(
                Completion.cohort_id == cohort_id, Completion.registration_id == registration_id
            )
        )
        is not None
    )


def completion_of(db: DbSession, registration_id: str) -> Completion | None:
    """The registration's completion, if it has completed."""
    return db.scalars(select(Completion).where(Completion.registration_id == registration_id)).first()


def completion_by_code(db: DbSession, code: str) -> Completion | None:
    """The completion whose certificate carries ``code``."""
    return db.scalars(select(Completion).where(Completion.certificate_code == code)).first()


def held_sessions(db: DbSession, cohort_id: str) -> list:
    """The start and facilitators of each of the cohort's sessions not cancelled, in time order."""
    return list(
        db.execute(
            select(TrainingSession.starts_at, TrainingSession.facilitators)
            .where(TrainingSession.cohort_id == cohort_id, TrainingSession.status != rules.CANCELLED)
            .order_by(TrainingSession.starts_at)
        )
    )
