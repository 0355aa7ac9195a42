"""Support activities: logged, edited with their history kept, drafted from office hours, read with notes audited."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.coaching import events
from services.coaching import repository as repo
from services.coaching.domain import activities as rules
from services.coaching.models import Activity, ActivityRevision, NotesAudit
from services.coaching.use_cases import Listing
from shared.auth import JURISDICTION_ADMIN, SPECIALIST, Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


def _viewer(who: Principal) -> rules.Viewer:
    return rules.Viewer(sub=who.sub, tenant=who.tenant, jurisdiction_admin=who.has(JURISDICTION_ADMIN))


def log_activity(data: dict, uow: UnitOfWork, who: Principal) -> Activity:
    """A coach or specialist logs an activity with a trainer of their jurisdiction."""
    session = uow.session
    plan = repo.latest_plan_of(session, who.tenant, data["trainer"])
    if data.get("plan_id"):
        try:
            plan = repo.get_plan(session, data["plan_id"], who)
        except NotFound:
            raise InvalidInput("No plan with this id.", errors={"plan_id": ["No plan with this id."]}) from None
        if plan.trainer != data["trainer"]:
            raise InvalidInput("The plan is another trainer's.", errors={"plan_id": ["Not this trainer's plan."]})
    activity = Activity(
        tenant=who.tenant,
        trainer=data["trainer"],
        plan_id=plan.id if plan else None,
        author=who.sub,
        author_name=who.display_name or None,
        status=rules.LOGGED,
        revision=1,
        **{name: _EMPTY[name] if data.get(name) is None else data[name] for name in rules.EDITABLE},
    )
    _check_dates(activity)
    session.add(activity)
    if who.has(SPECIALIST) and who.display_name:  # the trainer reads their specialist by this name
        repo.remember_specialist_name(session, who.tenant, who.sub, who.display_name)
    session.flush()
    _keep_revision(session, activity, who.sub)
    _audit(session, activity, who.sub, "write", "logged (revision 1)")
    events.activity_logged(session, activity)
    uow.commit()
    return activity


_EMPTY = {
    "kind": "consultation",
    "occurred_on": None,
    "duration_minutes": 0,
    "mode": "in_person",
    "people_present": [],
    "practices": [],
    "notes": "",
    "strengths": "",
    "next_steps": "",
    "follow_up_on": None,
}


def edit_activity(activity_id: str, data: dict, uow: UnitOfWork, who: Principal) -> Activity:
    """Its author changes an activity (or completes a draft); the version before is kept in its history."""
    activity = repo.get_activity(uow.session, activity_id, who, for_update=True)
    if activity.author != who.sub:
        raise Forbidden("Only the activity's author may change it.")
    if data.get("revision") is not None and data["revision"] != activity.revision:
        raise Conflict(
            f"The activity has changed since you read it (revision {activity.revision}): read it again.",
            errors={"revision": [f"Now {activity.revision}."]},
        )
    completing = data.get("status") == rules.LOGGED and activity.status == rules.DRAFT
    if data.get("status") == rules.DRAFT and activity.status == rules.LOGGED:
        raise Conflict("A logged activity cannot go back to draft.")
    changed = [name for name in rules.EDITABLE if name in data and data[name] != getattr(activity, name)]
    for name in rules.EDITABLE:
        if name in data:
            setattr(activity, name, data[name])
    if completing:
        activity.status = rules.LOGGED
    _check_dates(activity)
    activity.revision += 1
    uow.session.flush()
    _keep_revision(uow.session, activity, who.sub)
    # Every write is audited, whatever it changed (an edit of the date alone too), naming what it changed.
    verb = "completed" if completing else "edited"
    what = f"{verb} (revision {activity.revision}): {', '.join(changed) or 'nothing changed'}"
    _audit(uow.session, activity, who.sub, "write", what[:200])
    if completing:
        events.activity_logged(uow.session, activity)
    uow.commit()
    return activity


def _check_dates(activity: Activity) -> None:
    if activity.occurred_on is None:
        raise InvalidInput("The activity needs its date.", errors={"occurred_on": ["Missing data for required field."]})
    if activity.follow_up_on is not None and activity.follow_up_on < activity.occurred_on:
        raise InvalidInput(
            "A follow-up comes after the activity.", errors={"follow_up_on": ["Before the activity's date."]}
        )


def _keep_revision(session, activity: Activity, by: str) -> None:
    content = {name: getattr(activity, name) for name in rules.EDITABLE}
    content = {k: v.isoformat() if isinstance(v, date) else v for k, v in content.items()}
    content["status"] = activity.status
    session.add(
        ActivityRevision(
            activity_id=activity.id,
            tenant=activity.tenant,
            revision=activity.revision,
            content=content,
            written_by=by,
            written_at=utcnow(),
        )
    )


def _audit(session, activity: Activity, actor: str, action: str, what: str) -> None:
    session.add(NotesAudit(tenant=activity.tenant, activity_id=activity.id, actor=actor, action=action, what=what))


def readable_notes(session, activities: list[Activity], who: Principal) -> set[str]:
    """The ids among ``activities`` whose notes the caller may read."""
    specialists = repo.specialists_of_plans(session, [a.plan_id for a in activities])
    viewer = _viewer(who)
    return {
        a.id
        for a in activities
        if rules.may_read_notes(viewer, tenant=a.tenant, author=a.author, specialist=specialists.get(a.plan_id))
    }


def record_reads(db, activity_ids: list[str], tenants: dict[str, str], who: Principal, what: str) -> None:
    """Leave an audit record of each read of notes, in a transaction of its own (a read changes nothing else)."""
    if not activity_ids:
        return
    with db.unit_of_work() as uow:
        for activity_id in activity_ids:
            uow.session.add(
                NotesAudit(
                    tenant=tenants[activity_id], activity_id=activity_id, actor=who.sub, action="read", what=what
                )
            )
        uow.commit()


def list_activities(db, who: Principal, args: dict) -> Listing:
    """The activities the caller may see, by last change; notes only where they may read them (each read audited)."""
    return Listing(
        repo.activities_statement(who, trainer=args.get("trainer"), status=args.get("status")),
        order_by=(Activity.updated_at, Activity.id),
        updated_column=Activity.updated_at,
        change_column=Activity.change,
        present=lambda activities: present(db, activities, who, what="listed"),
    )


def show_activity(session, db, activity_id: str, who: Principal) -> dict:
    """An activity as the caller may see it (404 if they may not see it at all)."""
    return present(db, [repo.get_activity(session, activity_id, who)], who, what="shown")[0]


def revisions_of(session, db, activity_id: str, who: Principal) -> Listing:
    """An activity's revisions, oldest first, their notes only for the notes' readers."""
    activity = repo.get_activity(session, activity_id, who)
    return Listing(
        repo.revisions_statement(activity.id),
        order_by=(ActivityRevision.revision, ActivityRevision.id),
        present=lambda revisions: present_revisions(db, activity, revisions, who),
    )


def audit_of(session, activity_id: str, who: Principal) -> Listing:
    """Who wrote the activity and who read its notes, and when: for its jurisdiction's admin only."""
    activity = repo.get_activity(session, activity_id, who)
    if not (who.has(JURISDICTION_ADMIN) and who.tenant == activity.tenant):
        raise Forbidden("Only the jurisdiction admin reads the notes' audit.")
    return Listing(repo.audit_statement(activity.id), order_by=(NotesAudit.at, NotesAudit.id))


# --- office hours ---------------------------------------------------------------------------------------


def draft_from_booking(session, tenant: str, data: dict, *, cancelled: bool) -> None:
    """A booking of a specialist's office hours opens a draft for them to complete; a cancellation removes it.

    Once the specialist has completed it (logged), a cancellation leaves it alone: it is their record.
    """
    row = repo.activity_by_booking(session, data["booking_id"])
    if cancelled:
        if row is not None and row.status == rules.DRAFT:
            _audit(session, row, BY_BOOKINGS, "write", "draft removed: its office-hour booking was cancelled")
            session.delete(row)
        elif row is None:
            # A cancellation that overtook its booking: remember the booking so a late one opens nothing.
            _add_audited(session, _draft(tenant, data, status="cancelled"), "booking cancelled before it arrived")
        return
    if row is not None:
        return
    plan = repo.latest_plan_of(session, tenant, data["facilitator"])
    draft = _draft(tenant, data, status=rules.DRAFT, plan_id=plan.id if plan else None)
    _add_audited(session, draft, "draft opened from an office-hour booking")


# Who writes the drafts of office hours: coaching itself, on scheduling's booking events.
BY_BOOKINGS = "service:coaching"


def _add_audited(session, activity: Activity, what: str) -> None:
    session.add(activity)
    session.flush()  # its id, for the audit record
    _audit(session, activity, BY_BOOKINGS, "write", what)


def _draft(tenant: str, data: dict, *, status: str, plan_id: str | None = None) -> Activity:
    minutes = int((data["slot_end"] - data["slot_start"]).total_seconds() // 60)
    try:
        day = data["slot_start"].astimezone(ZoneInfo(data["time_zone"])).date()
    except (ZoneInfoNotFoundError, ValueError):
        day = data["slot_start"].date()
    return Activity(
        tenant=tenant,
        trainer=data["facilitator"],
        plan_id=plan_id,
        author=data["specialist"],
        status=status,
        kind="office_hours",
        occurred_on=day,
        duration_minutes=max(minutes, 0),
        mode="virtual",
        people_present=[data["specialist"], data["facilitator"]],
        practices=[],
        notes="",
        strengths="",
        next_steps=data.get("topic", ""),
        follow_up_on=None,
        booking_id=data["booking_id"],
        slot_end=data["slot_end"],
        revision=1,
    )


def present(db, activities: list[Activity], who: Principal, *, what: str) -> list[dict]:
    """The activities as the caller may see them: notes only where they may read them, each such read audited."""
    readable = readable_notes_in(db, activities, who)
    shown = []
    for activity in activities:
        item = {column: getattr(activity, column) for column in _SHOWN}
        if activity.id not in readable:
            item["notes"] = None
        shown.append(item)
    record_reads(db, [a.id for a in activities if a.id in readable], {a.id: a.tenant for a in activities}, who, what)
    return shown


def readable_notes_in(db, activities: list[Activity], who: Principal) -> set[str]:
    with db.session() as session:
        return readable_notes(session, activities, who)


_SHOWN = (
    "id",
    "tenant",
    "trainer",
    "plan_id",
    "author",
    "author_name",
    "status",
    *rules.EDITABLE,
    "booking_id",
    "revision",
    "created_at",
    "updated_at",
    "change",
)


def present_revisions(db, activity: Activity, revisions: list[ActivityRevision], who: Principal) -> list[dict]:
    """An activity's past versions, with their notes only for the notes' readers (each such read audited)."""
    readable = activity.id in readable_notes_in(db, [activity], who)
    shown = []
    for revision in revisions:
        content = dict(revision.content)
        if not readable:
            content["notes"] = None
        shown.append(
            {
                "revision": revision.revision,
                "content": content,
                "written_by": revision.written_by,
                "written_at": revision.written_at,
            }
        )
    if readable and revisions:
        record_reads(db, [activity.id], {activity.id: activity.tenant}, who, "history read")
    return shown
