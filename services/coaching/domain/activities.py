"""Support activities: their vocabulary, and who may read the confidential notes."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("meeting", "coaching", "consultation", "office_hours")
MODES = ("in_person", "virtual", "phone")
# The six PITC program practices (content's national vocabulary).
PRACTICES = (
    "primary-caregiving",
    "continuity-of-care",
    "small-group-care",
    "individualized-care",
    "culturally-responsive-care",
    "inclusive-care",
)
DRAFT = "draft"
LOGGED = "logged"
# What an edit may change; every one of them is kept in the activity's history.
EDITABLE = (
    "kind",
    "occurred_on",
    "duration_minutes",
    "mode",
    "people_present",
    "practices",
    "notes",
    "strengths",
    "next_steps",
    "follow_up_on",
)


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as far as the notes rule needs: their sub, tenant and whether they administer it."""

    sub: str
    tenant: str
    jurisdiction_admin: bool


def may_read_notes(viewer: Viewer, *, tenant: str, author: str, specialist: str | None) -> bool:
    """Notes are for their author, the trainer's specialist and the jurisdiction's admin; nobody else."""
    if viewer.tenant != tenant:
        return False
    return viewer.sub == author or (specialist is not None and viewer.sub == specialist) or viewer.jurisdiction_admin
