"""Contact points and preferences, as state systems and people set them."""

from __future__ import annotations

from services.notifications import repository as repo
from services.notifications.domain.kinds import DIGESTIBLE
from services.notifications.models import ContactPoint, JurisdictionPreference, PersonPreference
from shared.auth import Principal
from shared.http.problems import Problem


def put_contact_point(person: str, data: dict, uow, who: Principal) -> ContactPoint:
    """Create or replace how ``person`` of the caller's jurisdiction is reached."""
    row = repo.contact_point(uow.session, who.tenant, person, for_update=True)
    if row is None:
        row = ContactPoint(tenant=who.tenant, person=person)
        uow.session.add(row)
    row.email = data["email"]
    row.time_zone = data.get("time_zone")
    row.language = data.get("language", "en")
    row.supervisor_email = data.get("supervisor_email")
    uow.commit()
    return row


def set_jurisdiction_preference(kind: str, data: dict, uow, who: Principal) -> JurisdictionPreference:
    """Set the jurisdiction's default for one kind of notification."""
    row = repo.jurisdiction_preference(uow.session, who.tenant, kind)
    if row is None:
        row = JurisdictionPreference(tenant=who.tenant, kind=kind)
        uow.session.add(row)
    row.email = data["email"]
    row.copy_supervisor = data.get("copy_supervisor", False)
    uow.commit()
    return row


def set_person_preference(person: str, kind: str, data: dict, uow, who: Principal) -> PersonPreference:
    """Set one person's choice for one kind of notification on one channel."""
    if data.get("digest", "none") != "none" and kind not in DIGESTIBLE:
        raise Problem(
            422,
            "This kind cannot be gathered into a digest (it carries a calendar invite, or is a reminder).",
            title="Validation failed",
            errors={"digest": [f"Only these kinds take a digest: {', '.join(DIGESTIBLE)}."]},
        )
    key = (who.tenant, person, kind, data["channel"])
    row = uow.session.get(PersonPreference, key)
    if row is None:
        row = PersonPreference(tenant=who.tenant, person=person, kind=kind, channel=data["channel"])
        uow.session.add(row)
    row.enabled = data["enabled"]
    row.digest = data.get("digest", "none")
    uow.commit()
    return row
