"""The jurisdiction-wide session list's queries: a page's keys and versions, then the sessions to present."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session as DbSession

from services.scheduling.models import Cohort, CurrentMaterial, Registration, Room, TrainingSession, Venue
from services.scheduling.repository import in_tenant_of, json_list_contains
from shared.auth import Principal
from shared.errors import NotFound

# The list's filters, in the order their conditions are added.
LIST_FILTERS = ("cohort_id", "status", "starts_from", "starts_before", "facilitator", "registered")


def materials_version_column():
    """When content last announced a material: sessions' representations older than that are stale.

    As text: it is only compared, and it comes with every row of a page, where turning it into a
    datetime 50 times would cost more than the rest of the row.
    """
    return cast(select(func.max(CurrentMaterial.published_at)).scalar_subquery(), String)


@functools.cache
def list_keys_statement(national: bool, filters: tuple[str, ...], postgres: bool):
    """The keys and versions of a page of sessions, for one combination of filters: built once.

    Page over keys and versions; only sessions changed since last served are loaded and rendered.
    The materials' version rides along as a scalar subquery: one round trip for the whole page.
    """
    stmt = select(
        TrainingSession.id,
        TrainingSession.updated_at,
        TrainingSession.change,
        TrainingSession.starts_at,
        materials_version_column().label("materials_version"),
    ).where(in_tenant_of(TrainingSession, national=national, tenant=bindparam("tenant")))
    conditions = {
        "cohort_id": lambda value: TrainingSession.cohort_id == value,
        "status": lambda value: TrainingSession.status == value,
        "starts_from": lambda value: TrainingSession.starts_at >= value,
        "starts_before": lambda value: TrainingSession.starts_at < value,
        "facilitator": lambda value: or_(
            json_list_contains(TrainingSession.facilitators, value, postgres=postgres),
            TrainingSession.specialist == value,
        ),
        # Bound to the caller's own subject: a participant's schedule, never someone else's.
        "registered": lambda value: TrainingSession.cohort_id.in_(
            select(Registration.cohort_id).where(Registration.participant == value, Registration.status == "confirmed")
        ),
    }
    for name in filters:
        stmt = stmt.where(conditions[name](bindparam(name)))
    return stmt


# Built once: the modules and tenants of a page are expanding parameters, not part of the statement.
_CURRENT_MATERIALS = (
    select(CurrentMaterial)
    .where(
        CurrentMaterial.module_id.in_(bindparam("module_ids", expanding=True)),
        CurrentMaterial.tenant.is_(None) | CurrentMaterial.tenant.in_(bindparam("tenants", expanding=True)),
    )
    .order_by(CurrentMaterial.kind, CurrentMaterial.title, CurrentMaterial.material_id)
)


def current_materials(db: DbSession, module_ids: set[str], tenants: set[str]) -> list[CurrentMaterial]:
    """The current material versions of ``module_ids``: national ones and those of ``tenants``, in one query."""
    return list(db.scalars(_CURRENT_MATERIALS, {"module_ids": sorted(module_ids), "tenants": sorted(tenants)}))


@dataclass(frozen=True, slots=True)
class CohortZone:
    time_zone: str


@dataclass(frozen=True, slots=True)
class VenueShown:
    id: str
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class RoomShown:
    name: str
    accessibility_notes: str
    venue: VenueShown


@dataclass(frozen=True, slots=True)
class SessionToPresent:
    """What presenting a session reads, with the names of the model's attributes (``cohort.time_zone``,
    ``room.venue.name``), loaded as plain columns: nothing for the ORM to track or refresh."""

    id: str
    tenant: str
    cohort_id: str
    module_id: str | None
    module_position: int | None
    title: str
    starts_at: datetime
    ends_at: datetime
    room_id: str | None
    meeting_url: str | None
    facilitators: list
    specialist: str | None
    status: str
    cancel_reason: str | None
    sequence: int
    created_at: datetime
    updated_at: datetime
    cohort: CohortZone
    room: RoomShown | None


# The columns of a session as it is presented (its times become local times on the way out).
SESSION_COLUMNS = (
    "id",
    "tenant",
    "cohort_id",
    "module_id",
    "module_position",
    "title",
    "starts_at",
    "ends_at",
    "room_id",
    "meeting_url",
    "facilitators",
    "specialist",
    "status",
    "cancel_reason",
    "sequence",
    "created_at",
    "updated_at",
)


def _to_present_statement():
    """The sessions with their cohort's zone, room and venue in one statement, only the columns shown
    (not the whole cohort, whose seat count is a subquery)."""
    return (
        select(
            *[getattr(TrainingSession, name) for name in SESSION_COLUMNS],
            Cohort.time_zone.label("cohort_time_zone"),
            Room.name.label("room_name"),
            Room.accessibility_notes.label("room_accessibility_notes"),
            Venue.id.label("venue_id"),
            Venue.name.label("venue_name"),
            Venue.address.label("venue_address"),
        )
        .join(Cohort, Cohort.id == TrainingSession.cohort_id)
        .outerjoin(Room, Room.id == TrainingSession.room_id)
        .outerjoin(Venue, Venue.id == Room.venue_id)
    )


def _presentable(row) -> SessionToPresent:
    room = None
    if row.room_id is not None:
        room = RoomShown(
            row.room_name, row.room_accessibility_notes, VenueShown(row.venue_id, row.venue_name, row.venue_address)
        )
    return SessionToPresent(*row[: len(SESSION_COLUMNS)], cohort=CohortZone(row.cohort_time_zone), room=room)


# Built once: the list and GET by id are the hottest reads, and SQLAlchemy looks up a statement's
# compiled SQL by walking it unless it is the same object as last time. Run as plain rows, in one
# statement where loading the models took four (sessions, their whole cohorts, rooms, venues).
# make bench's reads at a tenth of a year, on a 2-core machine under other load (noisy): the big
# state's session list at half load, p50 12.5 ms before, 4.5-4.9 ms after; p99 75 ms before, 45-58
# ms after; GET by id 33 % of its ceiling before, 33-39 % after.
_PAGE_TO_PRESENT = _to_present_statement().where(TrainingSession.id.in_(bindparam("ids", expanding=True)))


@functools.cache
def _one_to_show(national: bool):
    return _to_present_statement().where(
        TrainingSession.id == bindparam("session_id"),
        in_tenant_of(TrainingSession, national=national, tenant=bindparam("tenant")),
    )


def to_present(db: DbSession, ids: list[str]) -> list[SessionToPresent]:
    """The sessions ``ids`` (of a page already scoped), with what presenting them reads: one statement."""
    return [_presentable(row) for row in db.connection().execute(_PAGE_TO_PRESENT, {"ids": list(ids)})]


def session_to_show(db: DbSession, session_id: str, who: Principal) -> SessionToPresent:
    """A session of the caller's jurisdiction with what showing it reads (its cohort's time zone, its room
    and venue), in one statement; another jurisdiction's is a 404."""
    row = (
        db.connection().execute(_one_to_show(who.is_national), {"session_id": session_id, "tenant": who.tenant}).first()
    )
    if row is None:
        raise NotFound("No session with this id.")
    return _presentable(row)
