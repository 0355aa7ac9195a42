"""Notifications' HTTP resources, one module per resource: contact points, preferences, the delivery log."""

from __future__ import annotations

import re

from services.notifications.schemas.contact_points import PERSON_PATTERN
from shared.auth import AGENCY_COORDINATOR, INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN, Principal
from shared.http.problems import Problem

# Who keeps a jurisdiction's contact points and preferences: its admins, coordinators and state systems.
MANAGERS = (NATIONAL_ADMIN, JURISDICTION_ADMIN, AGENCY_COORDINATOR, INTEGRATION)
_PERSON = re.compile(PERSON_PATTERN)


def check_person(person: str, who: Principal) -> str:
    """``person`` if the caller may act on their contact point: a manager of the jurisdiction, or themselves."""
    if not _PERSON.fullmatch(person):
        raise Problem(404, "No person with this id in your jurisdiction.", title="Not Found")
    if not who.has(*MANAGERS) and who.sub != person:
        raise Problem(403, "You may only see and change your own contact point.", title="Forbidden")
    return person
