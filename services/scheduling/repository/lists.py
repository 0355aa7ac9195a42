"""The statements of the API's lists, for ``shared.http.pagination.paginate``: each scoped as the list is."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from services.scheduling.models import (
    Attendance,
    Cohort,
    Completion,
    HostAgency,
    Jurisdiction,
    RecurringSeries,
    Registration,
    Room,
    TrainingRequest,
    TrainingSession,
    Venue,
)
from services.scheduling.repository import in_tenant, json_list_contains
from shared.auth import Principal
from shared.db import is_postgres


def host_agencies(who: Principal) -> Select:
    """The caller's jurisdiction's host agencies (every jurisdiction's for a national admin)."""
    return select(HostAgency).where(in_tenant(HostAgency, who))


def venues_of(agency_id: str) -> Select:
    """An agency's venues, with their rooms (the caller's access to the agency is checked before)."""
    return select(Venue).where(Venue.agency_id == agency_id).options(selectinload(Venue.rooms))


def rooms_of(venue_id: str) -> Select:
    """A venue's rooms (the caller's access to the venue is checked before)."""
    return select(Room).where(Room.venue_id == venue_id)


def my_attendance(who: Principal, cohort_id: str | None = None) -> Select:
    """The marks of the caller's own registrations in their jurisdiction (of one cohort if given), each with
    its session: columns named as ``MyAttendanceMarkSchema`` reads them, ``starts_at`` and ``id`` to page by."""
    stmt = (
        select(
            Attendance.id,
            Attendance.session_id,
            Attendance.registration_id,
            Attendance.status,
            Attendance.minutes,
            Attendance.updated_at,
            TrainingSession.cohort_id,
            TrainingSession.module_position,
            TrainingSession.title,
            TrainingSession.starts_at,
            TrainingSession.ends_at,
            TrainingSession.status.label("session_status"),
            Cohort.time_zone,
        )
        .join(Registration, Registration.id == Attendance.registration_id)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Cohort, Cohort.id == TrainingSession.cohort_id)
        .where(Registration.participant == who.sub, Registration.tenant == who.tenant)
    )
    return stmt.where(TrainingSession.cohort_id == cohort_id) if cohort_id else stmt


def completions_of(cohort_id: str) -> Select:
    """A cohort's completions (the caller's access to the cohort is checked before)."""
    return select(Completion).where(Completion.cohort_id == cohort_id)


COHORT_FILTERS = ("status", "series_id", "host_agency_id")


def cohorts(db: DbSession, who: Principal, filters: dict) -> Select:
    """The caller's jurisdiction's cohorts, with the equality filters of ``COHORT_FILTERS`` given, only
    those a person facilitates when ``facilitator`` is, those the caller registered for when ``registered`` is, and
    those with a session ahead of ``session_from``."""
    stmt = select(Cohort).where(in_tenant(Cohort, who))
    for name in COHORT_FILTERS:
        if filters.get(name):
            stmt = stmt.where(getattr(Cohort, name) == filters[name])
    if filters.get("facilitator"):
        stmt = stmt.where(json_list_contains(Cohort.facilitators, filters["facilitator"], postgres=is_postgres(db)))
    if filters.get("registered"):
        stmt = stmt.where(Cohort.id.in_(select(Registration.cohort_id).where(Registration.participant == who.sub)))
    if filters.get("session_from"):
        stmt = stmt.where(
            select(TrainingSession.id)  # ix_sessions_cohort_start
            .where(
                TrainingSession.cohort_id == Cohort.id,
                TrainingSession.starts_at >= filters["session_from"],
                TrainingSession.status == "scheduled",
            )
            .exists()
        )
    return stmt


def sessions_of_cohort(cohort_id: str, status: str | None) -> Select:
    """A cohort's sessions with their rooms and venues, of ``status`` if given (cohort access checked before)."""
    stmt = (
        select(TrainingSession)
        .where(TrainingSession.cohort_id == cohort_id)
        .options(selectinload(TrainingSession.room).selectinload(Room.venue))
    )
    return stmt.where(TrainingSession.status == status) if status else stmt


def jurisdictions() -> Select:
    """Every jurisdiction: the list is public to every caller."""
    return select(Jurisdiction)


def recurring_series(who: Principal, kind: str | None, owner: str | None) -> Select:
    """The caller's jurisdiction's recurring series, of ``kind`` and ``owner`` if given."""
    stmt = select(RecurringSeries).where(in_tenant(RecurringSeries, who))
    if kind:
        stmt = stmt.where(RecurringSeries.kind == kind)
    if owner:
        stmt = stmt.where(RecurringSeries.owner == owner)
    return stmt


def training_requests(who: Principal, status: str | None, tenant: str | None) -> Select:
    """The caller's jurisdiction's training requests with their history, of ``status`` and ``tenant`` if given."""
    stmt = select(TrainingRequest).where(in_tenant(TrainingRequest, who)).options(selectinload(TrainingRequest.history))
    if status:
        stmt = stmt.where(TrainingRequest.status == status)
    if tenant:
        stmt = stmt.where(TrainingRequest.tenant == tenant)
    return stmt
