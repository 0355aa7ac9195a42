"""Use cases for jurisdictions, host agencies, their venues and rooms; each commits once."""

from __future__ import annotations

import uuid

from services.scheduling import events
from services.scheduling import repository as repo
from services.scheduling.models import HostAgency, Jurisdiction, Room, Venue
from shared.auth import AGENCY_COORDINATOR, JURISDICTION_ADMIN, NATIONAL_ADMIN, Principal
from shared.db import UnitOfWork
from shared.errors import Conflict, Forbidden, InvalidInput


def add_jurisdiction(data: dict, uow: UnitOfWork, *, correlationid: str = "") -> Jurisdiction:
    """Add a Tribe (states and territories are seeded); its code is its tenant for ever after.

    The other services learn of it from ``scheduling.jurisdiction.added``, committed with it.
    """
    if uow.session.get(Jurisdiction, data["code"]) is not None:
        raise Conflict("A jurisdiction with this code exists.", errors={"code": ["Already taken."]})
    row = Jurisdiction(
        code=data["code"], name=data["name"], kind=data["kind"], default_time_zone=data["default_time_zone"]
    )
    uow.session.add(row)
    events.jurisdiction_added(uow.session, row, correlationid=correlationid)
    uow.commit()
    return row


def announce_tribes(uow: UnitOfWork) -> int:
    """Announce every Tribe again (``scheduling.jurisdiction.added``), for those added before the event
    existed; consumers handle an announcement twice without a second effect. Returns how many."""
    correlationid = str(uuid.uuid4())
    tribes = repo.tribes(uow.session)
    for row in tribes:
        events.jurisdiction_added(uow.session, row, correlationid=correlationid)
    uow.commit()
    return len(tribes)


def default_time_zone(db, tenant: str) -> str | None:
    row = db.get(Jurisdiction, tenant)
    return row.default_time_zone if row is not None else None


def agency_of_tenant(db, agency_id: str, tenant: str, *, field: str = "host_agency_id") -> HostAgency:
    """An agency named in a body: one of ``tenant``'s, else a 422 on ``field`` that reveals no other tenant's."""
    row = repo.agency_in(db, agency_id, tenant)
    if row is None:
        raise InvalidInput(
            "The host agency does not exist in your jurisdiction.", errors={field: ["No host agency with this id."]}
        )
    return row


def acting_agency(db, agency_id: str | None, who: Principal, *, doing: str) -> HostAgency | None:
    """The host agency a body names, if any, checked once for everything made for an agency.

    The agency must be one of the caller's jurisdiction's (else a 422). The rule: a coordinator (who is
    not also a jurisdiction admin) acts only for an agency they coordinate, so they must name one
    (422) and it must list them (403). ``doing`` completes "You may … only for an agency you coordinate".
    """
    agency = agency_of_tenant(db, agency_id, who.tenant) if agency_id is not None else None
    if who.has(AGENCY_COORDINATOR) and not who.has(JURISDICTION_ADMIN):
        if agency is None:
            raise InvalidInput(
                "Name the host agency you coordinate.",
                errors={"host_agency_id": [f"Required when an agency coordinator is {doing}."]},
            )
        if not repo.coordinates(db, agency.id, who):
            raise Forbidden(f"You may be {doing} only for an agency you coordinate.")
    return agency


def ensure_manages_agency(db, agency: HostAgency, who: Principal) -> None:
    """Admins manage every agency they can see; a coordinator only the agencies that list them."""
    if who.has(NATIONAL_ADMIN, JURISDICTION_ADMIN) or repo.coordinates(db, agency.id, who):
        return
    raise Forbidden("Only the jurisdiction's admins and this agency's coordinators may change it.")


def _unique(subs) -> list[str]:
    return list(dict.fromkeys(subs))


def create_agency(data: dict, uow: UnitOfWork, who: Principal) -> HostAgency:
    """A host agency of the caller's jurisdiction, with the coordinators who will manage its cohorts."""
    agency = HostAgency(
        tenant=who.tenant,
        name=data["name"],
        email=data.get("email"),
        phone=data.get("phone"),
        coordinators=_unique(data.get("coordinators", [])),
    )
    uow.session.add(agency)
    uow.commit()
    return agency


def update_agency(agency: HostAgency, data: dict, uow: UnitOfWork, who: Principal) -> HostAgency:
    if not who.has(NATIONAL_ADMIN, JURISDICTION_ADMIN):
        raise Forbidden("Only the jurisdiction's admins change an agency and its coordinators.")
    for name in ("name", "email", "phone"):
        if name in data:
            setattr(agency, name, data[name])
    if "coordinators" in data:
        agency.coordinators = _unique(data["coordinators"])  # a new list, so the JSON column sees the change
    uow.commit()
    return agency


def create_venue(agency: HostAgency, data: dict, uow: UnitOfWork, who: Principal) -> Venue:
    ensure_manages_agency(uow.session, agency, who)
    venue = Venue(
        tenant=agency.tenant,
        agency_id=agency.id,
        name=data["name"],
        address=data["address"],
        time_zone=data["time_zone"],
    )
    uow.session.add(venue)
    uow.commit()
    return venue


def create_room(venue: Venue, data: dict, uow: UnitOfWork, who: Principal) -> Room:
    ensure_manages_agency(uow.session, uow.session.get(HostAgency, venue.agency_id), who)
    room = Room(
        tenant=venue.tenant,
        venue_id=venue.id,
        name=data["name"],
        capacity=data["capacity"],
        accessibility_notes=data.get("accessibility_notes", ""),
    )
    uow.session.add(room)
    uow.commit()
    return room
