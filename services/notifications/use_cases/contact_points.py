"""Contact points and preferences, as state systems and people set them."""

from __future__ import annotations

from services.notifications import repository as repo
from services.notifications.domain.kinds import DIGESTIBLE, TEMPLATES
from services.notifications.domain.unsubscribe import Unsubscription, read_token
from services.notifications.models import ContactPoint, JurisdictionPreference, PersonPreference
from shared.auth import Principal
from shared.db import utcnow
from shared.http.problems import Problem


def put_contact_point(person: str, data: dict, uow, who: Principal) -> ContactPoint:
    """Create or replace how ``person`` of the caller's jurisdiction is reached."""
    row = repo.contact_point(uow.session, who.tenant, person, for_update=True)
    if row is None:
        row = ContactPoint(tenant=who.tenant, person=person)
        uow.session.add(row)
    row.email = data["email"]
    if "name" in data:  # left out, the name held is kept: a state system that keeps no names forgets none
        row.name = data["name"]
    row.time_zone = data.get("time_zone")
    row.language = data.get("language", "en")
    row.supervisor_email = data.get("supervisor_email")
    # Given now: a registration event carrying an address given before this does not undo it.
    row.contact_given_at = utcnow()
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


def _asked(token: str, config) -> Unsubscription:
    asked = read_token(config.unsubscribe_secret, token)
    if asked is None or asked.kind not in TEMPLATES:
        raise Problem(
            404, "This unsubscribe link is not one of this service's, or has been changed.", title="Not Found"
        )
    return asked


def _language(asked: Unsubscription, uow) -> str:
    contact = repo.contact_point(uow.session, asked.tenant, asked.person)
    return contact.language if contact is not None else "en"


def read_unsubscription(token: str, uow, config) -> tuple[Unsubscription, str]:
    """What a one-click unsubscribe link asks (whose choice, which kind), if this service signed it (404 if
    not), and the language its person reads e-mails in."""
    asked = _asked(token, config)
    return asked, _language(asked, uow)


def unsubscribe(token: str, uow, config) -> tuple[Unsubscription, str]:
    """Turn off, for the link's person, e-mails of the link's kind, as if they had chosen it on My e-mails.

    Critical messages (a session cancelled or moved within 48 hours) still reach them. Asked again, it
    changes nothing more.
    """
    asked = _asked(token, config)
    key = (asked.tenant, asked.person, asked.kind, "email")
    row = uow.session.get(PersonPreference, key, with_for_update=True)
    if row is None:
        row = PersonPreference(tenant=asked.tenant, person=asked.person, kind=asked.kind, channel="email")
        uow.session.add(row)
    if row.enabled is not False:
        row.enabled, row.digest = False, "none"
    uow.commit()
    return asked, _language(asked, uow)
