"""Learning communities' rules: the lifecycle, who sees and acts in a community's space, follows, consent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import COMMUNITY_FOCUS_AREAS, COMMUNITY_MEMBER_KINDS, COMMUNITY_STATUSES, LANGUAGES

# The events' vocabulary is the API's: one list each, in the catalogue.
FOCUS_AREAS, MEMBER_KINDS, STATUSES, MEMBER_LANGUAGES = (
    COMMUNITY_FOCUS_AREAS,
    COMMUNITY_MEMBER_KINDS,
    COMMUNITY_STATUSES,
    LANGUAGES,
)

CONVENING, ACTIVE, CLOSING, CLOSED = "convening", "active", "closing", "closed"
# A community is convened, works, winds down and closes; one that never got going may close at once,
# and one winding down may take its work up again. A closed community stays closed (its space is kept).
TRANSITIONS: dict[str, frozenset[str]] = {
    CONVENING: frozenset({ACTIVE, CLOSED}),
    ACTIVE: frozenset({CLOSING}),
    CLOSING: frozenset({ACTIVE, CLOSED}),
    CLOSED: frozenset(),
}

TEAM_MEMBER, STAFF, GUEST_EXPERT = "team_member", "staff", "guest_expert"
JOINED, LEFT = "active", "left"

DEFAULT_TIME_ZONE = "America/New_York"
PLANNED_MONTHS_DEFAULT, PLANNED_MONTHS_MAX = 12, 36

GOAL, TASK = "goal", "task"
WORK_ITEM_KINDS = (GOAL, TASK)
WORK_ITEM_STATUSES = ("open", "in_progress", "done", "dropped")

THREAD, REPLY, DOCUMENT = "thread", "reply", "document"
SOURCE_KINDS = (THREAD, REPLY, DOCUMENT)

DRAFT, PUBLISHED = "draft", "published"

ATTRIBUTE, ANONYMISE, EXCLUDE = "attribute", "anonymise", "exclude"
CONSENT_CHOICES = (ATTRIBUTE, ANONYMISE, EXCLUDE)

EXCERPT_LENGTH = 280


def transition(current: str, wanted: str) -> str:
    """The status after moving from ``current`` to ``wanted``; Conflict if the lifecycle forbids it."""
    if wanted == current:
        return current
    if wanted not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing: it is closed"
        raise Conflict(
            f"A {current} community cannot become {wanted}; it can become {allowed}.",
            errors={"status": [f"Is {current}; may become {allowed}."]},
        )
    return wanted


def start_week(day: date) -> date:
    """The Monday of the week ``day`` falls in: a community begins in a week, not on a day."""
    return day - timedelta(days=day.weekday())


def check_member(kind: str, jurisdiction: str | None, *, known: bool) -> None:
    """A team member comes from a jurisdiction the platform serves; staff and guest experts from none."""
    if kind == TEAM_MEMBER:
        if not jurisdiction:
            raise InvalidInput(
                "A team member belongs to a state, territory or Tribe.",
                errors={"jurisdiction": ["Required for a team member."]},
            )
        if not known:
            raise InvalidInput(
                f"{jurisdiction} is not a jurisdiction the platform serves.",
                errors={"jurisdiction": ["Unknown jurisdiction."]},
            )
    elif jurisdiction:
        raise InvalidInput(
            f"A {kind.replace('_', ' ')} takes part for the Initiative, not for a jurisdiction.",
            errors={"jurisdiction": [f"Not for a {kind}."]},
        )


@dataclass(frozen=True)
class Viewer:
    """What the rule of who sees a community needs to know about a caller."""

    sub: str
    tenant: str
    staff: bool  # a national admin: convenes and manages every community
    jurisdiction_admin: bool


def sees_space(viewer: Viewer, *, is_member: bool, jurisdiction_is_member: bool) -> bool:
    """Staff, the community's current members, and the admins of its member jurisdictions see its space.

    Everyone else (another jurisdiction's people, a non-member of a member jurisdiction) sees nothing
    of it, not even that it exists; published syntheses are read elsewhere. ``is_member``: the viewer
    is a current member; ``jurisdiction_is_member``: the viewer's jurisdiction has a current team member.
    """
    return viewer.staff or is_member or (viewer.jurisdiction_admin and jurisdiction_is_member)


def check_may_post(viewer: Viewer, *, is_member: bool) -> None:
    """Members (and staff) post threads, replies and documents and edit the work plan; an admin who
    only oversees the jurisdiction's team reads."""
    if not (viewer.staff or is_member):
        raise Forbidden("Only the community's members post in its space and edit its work plan.")


def check_open(status: str) -> None:
    """A closed community's space is kept to read; nothing new is posted in it."""
    if status == CLOSED:
        raise Conflict("The community is closed: its space can be read, not added to.", errors={"status": ["Closed."]})


def check_may_follow(*, is_member: bool) -> None:
    """Following is for members: only they hear of replies."""
    if not is_member:
        raise Forbidden("Only the community's members follow its threads.")


def check_consent_recorder(viewer: Viewer, jurisdiction: str) -> None:
    """A jurisdiction's consent is recorded by that jurisdiction's own admin, nobody else."""
    if not (viewer.jurisdiction_admin and viewer.tenant == jurisdiction):
        raise Forbidden(f"Only {jurisdiction}'s jurisdiction admin records its consent.")


def to_tell(following: dict[str, bool], *, author: str, members: Iterable[str]) -> list[str]:
    """Followers to tell of a reply: those following who are still members, never the reply's author."""
    current = set(members)
    return sorted(sub for sub, follows in following.items() if follows and sub != author and sub in current)


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    """The first ``length`` characters of a post, as plain text on one line."""
    return " ".join(text.split())[:length]


def default_consent(*, tribe: bool) -> str:
    """Without recorded consent a Tribe's contributions are left out; another jurisdiction's appear unattributed."""
    return EXCLUDE if tribe else ANONYMISE


def attribution(jurisdiction: str | None, choice: str | None, *, tribe: bool) -> tuple[bool, str | None]:
    """Whether a contribution appears in a published synthesis, and the jurisdiction it names.

    Contributions of staff and guest experts (no jurisdiction) appear as the Initiative's. A
    jurisdiction's appear attributed only with its recorded consent to ``attribute``; without a
    recorded choice its default applies, and a Tribe is never attributed without consent.
    """
    if jurisdiction is None:
        return True, None
    choice = choice or default_consent(tribe=tribe)
    if choice == EXCLUDE:
        return False, None
    return True, (jurisdiction if choice == ATTRIBUTE else None)


def check_publishable(status: str) -> None:
    """A synthesis is published once, from a draft."""
    if status == PUBLISHED:
        raise Conflict("The synthesis is already published.", errors={"status": ["Published."]})


def check_editable_synthesis(status: str) -> None:
    if status == PUBLISHED:
        raise Conflict(
            "A published synthesis is final; write a new one to say more.", errors={"status": ["Published."]}
        )


def work_plan_summary(items: Iterable, today: date) -> dict:
    """Where the work plan stands: goals and tasks by status, those overdue, and the next one due.

    ``items`` are the community's goals and tasks (anything with ``kind``, ``title``, ``status`` and
    ``due_on``); what is done or dropped is never overdue nor next.
    """
    summary = {"goals": 0, "tasks": 0, "overdue": 0, "next_due": None, **{s: 0 for s in WORK_ITEM_STATUSES}}
    pending = []
    for item in items:
        summary["goals" if item.kind == GOAL else "tasks"] += 1
        summary[item.status] += 1
        if item.status in ("open", "in_progress") and item.due_on is not None:
            pending.append(item)
            if item.due_on < today:
                summary["overdue"] += 1
    upcoming = sorted((i for i in pending if i.due_on >= today), key=lambda i: (i.due_on, i.title))
    if upcoming:
        summary["next_due"] = {"id": upcoming[0].id, "title": upcoming[0].title, "due_on": upcoming[0].due_on}
    return summary
