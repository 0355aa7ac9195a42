"""Recurring series' queries: their occurrence changes, office-hour bookings, and what a calendar feed holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from services.scheduling.models import (
    CalendarFeed,
    Cohort,
    OccurrenceChange,
    OfficeHourBooking,
    RecurringSeries,
    Registration,
    Room,
    TrainingSession,
)
from services.scheduling.repository import in_tenant, json_list_contains
from shared.auth import Principal
from shared.db import is_postgres

BOOKED = "booked"


# --- occurrence changes -----------------------------------------------------------------------


def occurrence_changes(db: DbSession, series_id: str) -> list[OccurrenceChange]:
    """The series' stored changes, in the order of the occurrences they change."""
    return list(
        db.scalars(
            select(OccurrenceChange)
            .where(OccurrenceChange.series_id == series_id)
            .order_by(OccurrenceChange.original_start)
        )
    )


def occurrence_change(db: DbSession, series_id: str, original_start: datetime) -> OccurrenceChange | None:
    """The stored change of the occurrence that originally starts at ``original_start``, if any."""
    return db.scalars(
        select(OccurrenceChange).where(
            OccurrenceChange.series_id == series_id, OccurrenceChange.original_start == original_start
        )
    ).first()


def drop_changes_from(db: DbSession, series_id: str, at: datetime) -> None:
    """Delete the changes of the occurrences originally starting at or after ``at``."""
    db.execute(
        delete(OccurrenceChange).where(OccurrenceChange.series_id == series_id, OccurrenceChange.original_start >= at)
    )


# --- office-hour bookings ---------------------------------------------------------------------


def booked_slots(
    db: DbSession, series_id: str, *, since: datetime | None = None, before: datetime | None = None
) -> list[OfficeHourBooking]:
    """The series' bookings still booked, of slots starting in [since, before) where those are given."""
    stmt = select(OfficeHourBooking).where(OfficeHourBooking.series_id == series_id, OfficeHourBooking.status == BOOKED)
    if since is not None:
        stmt = stmt.where(OfficeHourBooking.slot_start >= since)
    if before is not None:
        stmt = stmt.where(OfficeHourBooking.slot_start < before)
    return list(db.scalars(stmt))


def booking_of_slot(db: DbSession, series_id: str, slot_start: datetime) -> OfficeHourBooking | None:
    """The booking of the slot, booked or cancelled (a slot keeps one row: its unique key)."""
    return db.scalars(
        select(OfficeHourBooking).where(
            OfficeHourBooking.series_id == series_id, OfficeHourBooking.slot_start == slot_start
        )
    ).first()


def delete_booking(db: DbSession, booking: OfficeHourBooking) -> None:
    """Delete a booking's row with a Core delete, so a concurrent re-booking of its slot meets the unique key."""
    db.expunge(booking)
    db.execute(delete(OfficeHourBooking).where(OfficeHourBooking.id == booking.id))


def bookings_list(series_id: str, facilitator: str | None = None):
    """The series' bookings (of one facilitator, when given), for ``paginate``."""
    stmt = select(OfficeHourBooking).where(OfficeHourBooking.series_id == series_id)
    if facilitator is not None:
        stmt = stmt.where(OfficeHourBooking.facilitator == facilitator)
    return stmt


# --- calendar feeds ---------------------------------------------------------------------------


def feeds_list(who: Principal):
    """The caller's own feeds, for ``paginate``."""
    return select(CalendarFeed).where(CalendarFeed.created_by == who.sub, in_tenant(CalendarFeed, who))


def feed_by_token_hash(db: DbSession, hashed: str) -> CalendarFeed | None:
    """The feed whose token hashes to ``hashed`` (a unique index), revoked or not."""
    return db.scalars(select(CalendarFeed).where(CalendarFeed.token_hash == hashed)).first()


def _feed_sessions(db: DbSession, tenant: str, condition) -> list[TrainingSession]:
    stmt = (
        select(TrainingSession)
        .where(TrainingSession.tenant == tenant, condition)
        .options(selectinload(TrainingSession.cohort), selectinload(TrainingSession.room).selectinload(Room.venue))
    )
    return list(db.scalars(stmt.order_by(TrainingSession.starts_at, TrainingSession.id)))


def cohort_sessions(db: DbSession, tenant: str, cohort_id: str) -> list[TrainingSession]:
    """The cohort's sessions, in time order, with what rendering them reads."""
    return _feed_sessions(db, tenant, TrainingSession.cohort_id == cohort_id)


def participant_sessions(db: DbSession, tenant: str, participant: str) -> list[TrainingSession]:
    """The sessions of the cohorts a participant is confirmed in, in time order.

    A cancelled cohort's sessions stay, as CANCELLED: a calendar removes an event it is told was
    cancelled, and keeps one that merely stops appearing.
    """
    attending = (
        select(Registration.cohort_id)
        .join(Cohort, Cohort.id == Registration.cohort_id)
        .where(
            Registration.tenant == tenant,
            Registration.participant == participant,
            or_(
                Registration.status == "confirmed",
                and_(Registration.status == "cancelled", Cohort.status == "cancelled"),
            ),
        )
    )
    return _feed_sessions(db, tenant, TrainingSession.cohort_id.in_(attending))


def staffed_sessions(db: DbSession, tenant: str, person: str) -> list[TrainingSession]:
    """The sessions a person facilitates or is the specialist of, in time order."""
    return _feed_sessions(
        db,
        tenant,
        or_(
            json_list_contains(TrainingSession.facilitators, person, postgres=is_postgres(db)),
            TrainingSession.specialist == person,
        ),
    )


def owned_series(db: DbSession, tenant: str, owner: str) -> list[RecurringSeries]:
    """The recurring series a person owns, oldest first."""
    return list(
        db.scalars(
            select(RecurringSeries)
            .where(RecurringSeries.tenant == tenant, RecurringSeries.owner == owner)
            .order_by(RecurringSeries.created_at, RecurringSeries.id)
        )
    )


def office_hours_booked_by(
    db: DbSession, tenant: str, facilitator: str
) -> list[tuple[OfficeHourBooking, RecurringSeries]]:
    """A facilitator's office-hour bookings with their series, in slot order."""
    rows = db.execute(
        select(OfficeHourBooking, RecurringSeries)
        .join(RecurringSeries, RecurringSeries.id == OfficeHourBooking.series_id)
        .where(OfficeHourBooking.tenant == tenant, OfficeHourBooking.facilitator == facilitator)
        .order_by(OfficeHourBooking.slot_start, OfficeHourBooking.id)
    )
    return [(booking, series) for booking, series in rows]
