"""Queries, always scoped to the caller's jurisdiction; the conflict query on the bookings index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, delete, exists, func, literal, select, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from services.scheduling.models import Booking, Cohort, HostAgency, Jurisdiction, TrainingSession
from shared.auth import (
    AGENCY_COORDINATOR,
    FACILITATOR,
    INTEGRATION,
    JURISDICTION_ADMIN,
    NATIONAL_ADMIN,
    SPECIALIST,
    Principal,
)
from shared.db import is_postgres, locking
from shared.errors import NotFound

# Who may read a jurisdiction's scheduling data at all (participants see only their own rows).
STAFF = (NATIONAL_ADMIN, JURISDICTION_ADMIN, AGENCY_COORDINATOR, SPECIALIST, FACILITATOR, INTEGRATION)
MANAGERS = (NATIONAL_ADMIN, JURISDICTION_ADMIN, AGENCY_COORDINATOR)


def jurisdiction_codes(db: DbSession) -> list[str]:
    """The code of every jurisdiction scheduling serves (states, territories and the Tribes added)."""
    return list(db.scalars(select(Jurisdiction.code)))


def tribes(db: DbSession) -> list[Jurisdiction]:
    """Every Tribe added, in the order of their codes."""
    return list(db.scalars(select(Jurisdiction).where(Jurisdiction.kind == "tribe").order_by(Jurisdiction.code)))


def in_tenant(model, who: Principal):
    """Rows of the caller's jurisdiction; national admins see every jurisdiction."""
    return in_tenant_of(model, national=who.is_national, tenant=who.tenant)


def in_tenant_of(model, *, national: bool, tenant):
    """``in_tenant`` for a kind of caller; ``tenant`` may be a bound parameter (statements built once)."""
    return true() if national else model.tenant == tenant


def get_scoped(db: DbSession, model, row_id: str, who: Principal, *, what: str, for_update: bool = False):
    """One row by id within the caller's jurisdiction; another jurisdiction's id is a 404."""
    stmt = select(model).where(model.id == row_id, in_tenant(model, who))
    if for_update:
        stmt = locking(db, stmt)
    row = db.scalars(stmt).first()
    if row is None:
        raise NotFound(f"No {what} with this id.")
    return row


def get_many_scoped(db: DbSession, model, row_ids: list[str], who: Principal, *, what: str, load=()) -> list:
    """Rows by id within the caller's jurisdiction, in one query, with the relationships in ``load`` (one
    more query each); any id not found there is a 404."""
    stmt = select(model).where(model.id.in_(row_ids), in_tenant(model, who))
    rows = list(db.scalars(stmt.options(*(selectinload(related) for related in load))))
    missing = set(row_ids) - {row.id for row in rows}
    if missing:
        raise NotFound(f"No {what} with the id {sorted(missing)[0]}.")
    return rows


def agency_in(db: DbSession, agency_id: str, tenant: str) -> HostAgency | None:
    """The host agency, if it is the jurisdiction's."""
    return db.scalars(select(HostAgency).where(HostAgency.id == agency_id, HostAgency.tenant == tenant)).first()


def coordinates(db: DbSession, agency_id: str | None, who: Principal) -> bool:
    """True if the caller is a coordinator of the agency."""
    if agency_id is None or not who.has(AGENCY_COORDINATOR):
        return False
    agency = db.get(HostAgency, agency_id)
    return agency is not None and who.sub in (agency.coordinators or [])


def manages_cohort(db: DbSession, cohort: Cohort, who: Principal) -> bool:
    """National and jurisdiction admins manage every cohort they can see; coordinators their agency's."""
    if who.has(NATIONAL_ADMIN, JURISDICTION_ADMIN):
        return True
    return coordinates(db, cohort.host_agency_id, who)


def facilitates(session: TrainingSession, who: Principal) -> bool:
    return who.has(FACILITATOR) and who.sub in (session.facilitators or [])


# --- bookings: the conflict index ------------------------------------------------------------


def conflicts(
    db: DbSession, resources: list[str], starts_at: datetime, ends_at: datetime, *, exclude_owner: str | None = None
) -> list[Booking]:
    """Bookings of any of ``resources`` overlapping [starts_at, ends_at), across all cohorts and series.

    Uses the (resource, starts_at, ends_at) index: one range scan per resource, never a scan of
    all sessions.
    """
    if not resources:
        return []
    stmt = select(Booking).where(
        Booking.resource.in_(resources), Booking.starts_at < ends_at, Booking.ends_at > starts_at
    )
    if exclude_owner is not None:
        stmt = stmt.where(Booking.owner_id != exclude_owner)
    return list(db.scalars(stmt.order_by(Booking.starts_at)))


def book(
    db: DbSession,
    *,
    tenant: str,
    resources: list[str],
    starts_at: datetime,
    ends_at: datetime,
    owner_kind: str,
    owner_id: str,
) -> None:
    """Replace the owner's bookings with ``resources`` over the new interval."""
    db.execute(delete(Booking).where(Booking.owner_id == owner_id))
    for resource in resources:
        db.add(
            Booking(
                tenant=tenant,
                resource=resource,
                starts_at=starts_at,
                ends_at=ends_at,
                owner_kind=owner_kind,
                owner_id=owner_id,
            )
        )


def release(db: DbSession, owner_id: str) -> None:
    db.execute(delete(Booking).where(Booking.owner_id == owner_id))


def person(sub: str) -> str:
    """A person's resource in the bookings index, whatever role they hold in the booking.

    One name per person, so a specialist cannot be booked into a session as facilitator while
    holding office hours or specialist duty elsewhere at the same time.
    """
    return f"person:{sub}"


def session_resources(session: TrainingSession) -> list[str]:
    """The people and the room a session occupies."""
    people = [*(session.facilitators or []), *([session.specialist] if session.specialist else [])]
    resources = [person(sub) for sub in dict.fromkeys(people)]
    if session.room_id:
        resources.append(f"room:{session.room_id}")
    return resources


def lock_resources(db: DbSession, resources) -> None:
    """Serialise bookers of the same person or room, so two concurrent writes cannot both pass the check.

    PostgreSQL only (transaction-scoped advisory locks, taken in a fixed order so they cannot deadlock);
    SQLite runs one writer at a time anyway.
    """
    if not is_postgres(db):
        return
    for resource in sorted(set(resources)):
        db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:r, 0))"), {"r": f"booking:{resource}"})


def json_list_contains(column, value, *, postgres: bool):
    """``value`` (a string, or a bound parameter) is an element of the JSON list of strings in ``column``.

    PostgreSQL's JSONB ``?`` (a top-level string element), or SQLite's json_each.
    """
    if postgres:
        return cast(column, JSONB).has_key(cast(value, Text))  # as text: JSONB would coerce it to a document
    elements = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(elements.c.value == value))
