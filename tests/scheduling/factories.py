"""Build scheduling data straight through the models, so each feature's tests stand on their own.

Use these to arrange a test; exercise the behaviour under test through the HTTP API.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.scheduling.models import Cohort, HostAgency, Registration, Room, Spot, TrainingSession, Venue
from services.scheduling.repository import book, seats, session_resources

SERIES_ID = "00000000-0000-4000-8000-000000000001"


def agency(
    db, tenant: str = "CA", coordinators: tuple[str, ...] = ("coord-ca",), name: str = "Bay Area Child Care Council"
):
    row = HostAgency(tenant=tenant, name=name, email="training@example.org", coordinators=list(coordinators))
    db.add(row)
    db.flush()
    return row


def room(db, agency_row, *, capacity: int = 30, time_zone: str = "America/Los_Angeles", name: str = "Room A"):
    venue = Venue(
        tenant=agency_row.tenant,
        agency_id=agency_row.id,
        name="Community Center",
        address="100 Main St, Oakland, CA",
        time_zone=time_zone,
    )
    db.add(venue)
    db.flush()
    row = Room(
        tenant=agency_row.tenant,
        venue_id=venue.id,
        name=name,
        capacity=capacity,
        accessibility_notes="Step-free entrance",
    )
    db.add(row)
    db.flush()
    return row


def cohort(
    db,
    *,
    tenant: str = "CA",
    time_zone: str = "America/Los_Angeles",
    capacity: int = 20,
    facilitators: tuple[str, ...] = ("fac-ca",),
    first_day: datetime | None = None,
    sessions: int = 9,
    format: str = "virtual",
    agency_row=None,
    room_row=None,
    requires_approval: bool = False,
    completion_minimum: int = 9,
    local_hour: int = 9,
    minutes: int = 120,
    book_resources: bool = True,
):
    """A cohort with ``sessions`` weekly sessions at ``local_hour`` local time, starting ``first_day``."""
    agency_row = agency_row or agency(db, tenant)
    row = Cohort(
        tenant=tenant,
        series_id=SERIES_ID,
        host_agency_id=agency_row.id,
        title=f"Relationship-Based Care cohort {uuid.uuid4().hex[:6]}",
        format=format,
        time_zone=time_zone,
        capacity=capacity,
        facilitators=list(facilitators),
        requires_approval=requires_approval,
        completion_minimum=completion_minimum,
        status="open",
    )
    db.add(row)
    db.flush()
    seats.provide(db, row.id, capacity)
    zone = ZoneInfo(time_zone)
    start_day = (first_day or datetime.now(UTC) + timedelta(days=7)).astimezone(zone)
    for position in range(1, sessions + 1):
        day = start_day + timedelta(weeks=position - 1)
        local = datetime(day.year, day.month, day.day, local_hour, 0, tzinfo=zone)
        session = TrainingSession(
            tenant=tenant,
            cohort_id=row.id,
            module_id=f"module-{position}",
            module_position=position,
            title=f"Session {position}",
            starts_at=local.astimezone(UTC),
            ends_at=(local + timedelta(minutes=minutes)).astimezone(UTC),
            room_id=room_row.id if room_row else None,
            meeting_url="https://meet.example.org/rbc" if format != "in_person" else None,
            facilitators=list(facilitators),
        )
        db.add(session)
        db.flush()
        if book_resources:
            book(
                db,
                tenant=tenant,
                resources=session_resources(session),
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                owner_kind="session",
                owner_id=session.id,
            )
    db.flush()
    return row


def registration(
    db,
    cohort_row,
    participant: str,
    *,
    status: str = "confirmed",
    email: str | None = None,
    registry_id: str | None = None,
    position: int | None = None,
):
    row = Registration(
        tenant=cohort_row.tenant,
        cohort_id=cohort_row.id,
        participant=participant,
        name=participant.replace("-", " ").title(),
        email=email or f"{participant}@example.org",
        registry_id=registry_id,
        status=status,
    )
    db.add(row)
    db.flush()
    if status == "confirmed":
        assert seats.claim_seat(db, cohort_row.id, row.id), "no seat left in this cohort"
    elif status == "waitlisted":
        row.waitlist_position = seats.claim_waitlist_spot(db, cohort_row.id, row.id)
        assert position in (None, row.waitlist_position)
        db.flush()
    return row


def spots_taken(db, cohort_id: str) -> tuple[int, int]:
    """(seats held, waitlist spots handed out) of a cohort."""
    taken = dict(
        db.execute(
            select(Spot.kind, func.count())
            .where(Spot.cohort_id == cohort_id, Spot.registration_id.is_not(None))
            .group_by(Spot.kind)
        ).all()
    )
    return taken.get("seat", 0), taken.get("waitlist", 0)
