"""Addresses refused for good by their mail server (``domain/bounces.py``): listed with whose they are, cleared."""

from __future__ import annotations

from services.notifications import metrics
from services.notifications import repository as repo
from services.notifications.domain.bounces import address_key
from services.notifications.models import UndeliverableAddress
from shared.db import utcnow
from shared.http.problems import Problem


def set_address_aside(session, tenant: str, address: str, reply: str, message_id: str, now) -> None:
    """Set ``address`` aside for ``tenant``: its mail server refused it for good, at ``RCPT TO`` or in a
    report that came back later. ``message_id``: the refused message's."""
    values = {
        "tenant": tenant,
        "address_key": address_key(address),
        "address": address,
        "reply": reply[:2000],
        "message_id": message_id,
        "refused_at": now,
        "created_at": now,
        "updated_at": now,
    }
    repo.set_address_aside(session, values)
    metrics.UNDELIVERABLE.inc()


def address_of(address: str | None) -> str | None:
    """How a list's ``address`` filter is compared, whatever its case."""
    return address_key(address) if address else None


def undeliverable_addresses(session, tenant: str, page_items) -> list[dict]:
    """A page of refused addresses, each with the people of the jurisdiction whose e-mail it is."""
    people = repo.people_at(session, tenant, {row.address_key for row in page_items})
    return [_undeliverable(row, people[row.address_key]) for row in page_items]


def clear_undeliverable_address(address: str, uow, who) -> dict:
    """A jurisdiction admin clears an address (the mailbox was mended): its next messages are sent."""
    key = address_key(address)
    row = repo.undeliverable_address(uow.session, who.tenant, key, for_update=True)
    if row is None:
        raise Problem(404, "This address was never refused in your jurisdiction.", title="Not Found")
    if row.cleared_at is None:
        row.cleared_at, row.cleared_by = utcnow(), who.sub
    uow.commit()
    return _undeliverable(row, repo.people_at(uow.session, who.tenant, {key})[key])


def _undeliverable(row: UndeliverableAddress, people: tuple[list, list]) -> dict:
    return {
        "address": row.address,
        "people": [{"person": person, "name": name} for person, name in people[0]],
        "supervisor_of": [{"person": person, "name": name} for person, name in people[1]],
        "reply": row.reply,
        "message_id": row.message_id,
        "refused_at": row.refused_at,
        "cleared_at": row.cleared_at,
        "cleared_by": row.cleared_by,
    }
