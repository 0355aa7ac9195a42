"""Training hours' queries: the hours rows kept current, and the export's two sources of rows as statements."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, and_, case, cast, false, func, literal, null, or_, select, true, union_all
from sqlalchemy.orm import Session as DbSession

from services.scheduling.domain import attendance as rules
from services.scheduling.models import (
    Attendance,
    Cohort,
    Completion,
    Jurisdiction,
    Registration,
    RegistrationHours,
    SelfReportedHours,
    TrainingSession,
)
from services.scheduling.repository import in_tenant
from shared.auth import INTEGRATION, JURISDICTION_ADMIN, NATIONAL_ADMIN, Principal
from shared.db import UTCDateTime
from shared.errors import NotFound

# verified: credited from attendance taken by the session's facilitators or managers.
# self_reported: training a participant reports having taken elsewhere (no attendance records here).
VERIFIED = "verified"
SELF_REPORTED = "self_reported"
# active: counts. voided: a tombstone, sent once to incremental exports, of a row that no longer counts.
ACTIVE = "active"
VOIDED = "voided"
CANCELLED_COHORT = "cancelled"
# Who records self-reported hours for someone else, and sees every such entry of a jurisdiction.
RECORDERS = (JURISDICTION_ADMIN, INTEGRATION)


def _later(a, b):
    """The later of two instants, either of which may be NULL (GREATEST is not portable to SQLite)."""
    return case((b.is_(None), a), (a.is_(None), b), (a >= b, a), else_=b)


def _jurisdiction_scope(db: DbSession, who: Principal, jurisdiction: str | None):
    """A row filter, for any tenant-owned model, of what the caller may export.

    Their own jurisdiction, or every one for a national admin, narrowed to ``jurisdiction`` when
    asked; another jurisdiction's code is a 404, as is an unknown one.
    """
    if jurisdiction is None:
        return lambda model: in_tenant(model, who)
    if (not who.is_national and jurisdiction != who.tenant) or db.get(Jurisdiction, jurisdiction) is None:
        raise NotFound("No jurisdiction with this code.")
    return lambda model: model.tenant == jurisdiction


def _own_only(who: Principal) -> str | None:
    """The participant whose rows alone the caller sees (their own), or None for those who export a jurisdiction."""
    return None if who.has(*RECORDERS, NATIONAL_ADMIN) else who.sub


def _window(db: DbSession, cohort_scope, first: date | None, last: date | None):
    """Sessions whose local date, in their cohort's zone, lies in [first, last].

    One bound pair per time zone in use (a handful per jurisdiction), so the filter stays a range
    on ``starts_at`` while honouring each cohort's calendar: a 9:00 session in Guam is on the
    registry's date even though it starts the previous day in UTC.
    """
    zones = db.scalars(select(Cohort.time_zone).distinct().where(cohort_scope)).all()
    clauses = []
    for name in zones:
        zone = ZoneInfo(name)
        bounds = [Cohort.time_zone == name]
        if first is not None:
            bounds.append(TrainingSession.starts_at >= datetime.combine(first, time(), zone))
        if last is not None:
            bounds.append(TrainingSession.starts_at < datetime.combine(last + timedelta(days=1), time(), zone))
        clauses.append(and_(*bounds))
    return or_(*clauses) if clauses else false()


def attendance_totals(db: DbSession, registration_ids: list[str]) -> dict:
    """Per registration marked in a session: minutes and sessions credited, and sessions marked that were held."""
    held = TrainingSession.status != rules.CANCELLED
    credited = and_(Attendance.status.in_(rules.ATTENDED), held)
    return {
        row.registration_id: row
        for row in db.execute(
            select(
                Attendance.registration_id,
                func.sum(case((credited, Attendance.minutes), else_=0)).label("minutes"),
                func.sum(case((credited, 1), else_=0)).label("sessions_attended"),
                func.sum(case((held, 1), else_=0)).label("sessions_marked"),
            )
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .where(Attendance.registration_id.in_(registration_ids))
            .group_by(Attendance.registration_id)
        )
    }


def hours_rows(db: DbSession, registration_ids: list[str]) -> dict[str, RegistrationHours]:
    """The hours rows the registrations already have, by registration."""
    return {
        r.registration_id: r
        for r in db.scalars(select(RegistrationHours).where(RegistrationHours.registration_id.in_(registration_ids)))
    }


def registrations_by_id(db: DbSession, registration_ids: list[str]) -> dict[str, Registration]:
    return {r.id: r for r in db.scalars(select(Registration).where(Registration.id.in_(registration_ids)))}


def cohort_of_jurisdiction(db: DbSession, cohort_id: str, tenant: str) -> str | None:
    """The cohort's id if it is the jurisdiction's."""
    return db.scalars(select(Cohort.id).where(Cohort.id == cohort_id, Cohort.tenant == tenant)).first()


def training_hours_branches(db: DbSession, who: Principal, args: dict):
    """The two sources of training-hours rows (verified, self-reported), for ``paginate``'s ``branches``.

    Without dates, verified rows are read from the hours rows kept current as attendance is written
    (``use_cases.hours.refresh``): a page is a range of an index (jurisdiction, change or updated_at), at any depth
    and any size. With ``from`` or ``to``, the hours of the sessions on those dates are summed from
    attendance (``windowed_branches``).
    """
    if args.get("from_") is not None or args.get("to") is not None:
        return windowed_branches(db, who, args)
    scope = _jurisdiction_scope(db, who, args.get("jurisdiction"))
    own = _own_only(who)
    kept = RegistrationHours
    # The row's own updated_at and change: refresh touches it whenever anything it shows changes.
    status = case((Cohort.status == CANCELLED_COHORT, VOIDED), (kept.sessions_marked == 0, VOIDED), else_=ACTIVE)
    verified = (
        select(
            kept.registration_id.label("row_id"),
            literal(VERIFIED, String).label("verification"),
            kept.registration_id.label("registration_id"),
            cast(null(), String).label("self_reported_id"),
            Registration.participant,
            Registration.name,
            Registration.registry_id,
            kept.tenant.label("jurisdiction"),
            kept.cohort_id,
            kept.minutes,
            kept.sessions_attended,
            Completion.completed_at,
            cast(null(), String).label("title"),
            cast(null(), String).label("provider"),
            cast(null(), Date).label("completed_on"),
            kept.updated_at.label("updated_at"),
            status.label("status"),
            Cohort.status.label("cohort_status"),
            Registration.cancelled_reason.label("cancelled_reason"),
            kept.change.label("change"),
        )
        .join(Registration, Registration.id == kept.registration_id)
        .join(Cohort, Cohort.id == kept.cohort_id)
        .outerjoin(Completion, Completion.registration_id == kept.registration_id)
        .where(scope(kept))
    )
    if args.get("changed_after") is None and args.get("updated_since") is None:
        # Tombstones are for incremental exports only. Said as plain conditions (not on ``status``)
        # so that the planner sees most rows pass and reads the index in order, a page at a time.
        verified = verified.where(Cohort.status != CANCELLED_COHORT, kept.sessions_marked > 0)
    if own is not None:
        verified = verified.where(Registration.participant == own)
    return [verified, _self_reported_rows(scope, None, None, own)]


def windowed_branches(db: DbSession, who: Principal, args: dict):
    """The two sources of training-hours rows counting only the sessions on the dates asked (``branches``).

    Verified rows are summed from the attendance of the sessions on those dates. ``row_id`` is the
    registration's id on a verified row and the self-reported entry's id on the other (UUIDs: unique
    across the two), so (updated_at, row_id) orders every row once. A verified row's change marker
    is the latest of everything it is computed from (the registration, its attendance, the sessions
    marked, the cohort, the completion). A row left with no credit (its cohort cancelled, or every
    session it was marked in cancelled) is ``voided``: incremental exports (``changed_after``,
    ``updated_since``) carry it once as a tombstone with the reason; a full export leaves it out.
    """
    scope = _jurisdiction_scope(db, who, args.get("jurisdiction"))
    own = _own_only(who)
    first, last = args.get("from_"), args.get("to")
    held = TrainingSession.status != rules.CANCELLED
    credited = and_(Attendance.status.in_(rules.ATTENDED), held)
    per_registration = (
        select(
            Attendance.registration_id.label("registration_id"),
            func.sum(case((credited, Attendance.minutes), else_=0)).label("minutes"),
            func.sum(case((credited, 1), else_=0)).label("sessions_attended"),
            func.sum(case((held, 1), else_=0)).label("held_sessions"),
            func.max(_later(Attendance.updated_at, TrainingSession.updated_at)).label("marked_at"),
            func.max(_later(Attendance.change, TrainingSession.change)).label("change"),
        )
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(scope(Attendance))
        .group_by(Attendance.registration_id)
    )
    if own is not None:  # a participant's own attendance, not the jurisdiction's summed then left out
        per_registration = per_registration.where(
            Attendance.registration_id.in_(select(Registration.id).where(Registration.participant == own))
        )
    if first is not None or last is not None:
        per_registration = per_registration.join(Cohort, Cohort.id == TrainingSession.cohort_id).where(
            _window(db, scope(Cohort), first, last)
        )
    totals = per_registration.subquery("totals")
    updated_at = _later(
        _later(_later(totals.c.marked_at, Registration.updated_at), Completion.completed_at), Cohort.updated_at
    )
    change = _later(_later(_later(totals.c.change, Registration.change), Completion.change), Cohort.change)
    status = case((Cohort.status == CANCELLED_COHORT, VOIDED), (totals.c.held_sessions == 0, VOIDED), else_=ACTIVE)
    verified = (
        select(
            Registration.id.label("row_id"),
            literal(VERIFIED, String).label("verification"),
            Registration.id.label("registration_id"),
            cast(null(), String).label("self_reported_id"),
            Registration.participant,
            Registration.name,
            Registration.registry_id,
            Registration.tenant.label("jurisdiction"),
            Registration.cohort_id,
            totals.c.minutes,
            totals.c.sessions_attended,
            Completion.completed_at,
            cast(null(), String).label("title"),
            cast(null(), String).label("provider"),
            cast(null(), Date).label("completed_on"),
            updated_at.label("updated_at"),
            status.label("status"),
            Cohort.status.label("cohort_status"),
            Registration.cancelled_reason.label("cancelled_reason"),
            change.label("change"),
        )
        .join(totals, totals.c.registration_id == Registration.id)
        .join(Cohort, Cohort.id == Registration.cohort_id)
        .outerjoin(Completion, Completion.registration_id == Registration.id)
    )
    if args.get("changed_after") is None and args.get("updated_since") is None:
        verified = verified.where(status == ACTIVE)  # tombstones are for incremental exports only
    return [verified, _self_reported_rows(scope, first, last, own)]


def page_columns():
    """The export's order (updated_at, then the row's id), its update time and its change marker, by name."""
    rows = union_all(*[_self_reported_rows(lambda model: true(), None, None)] * 2).subquery("training_hours")
    return [rows.c.updated_at, rows.c.row_id], rows.c.updated_at, rows.c.change


def _self_reported_rows(scope, first: date | None, last: date | None, own: str | None = None):
    """Self-reported entries as export rows; `from` and `to` apply to the day the training was completed;
    ``own``: one participant's only."""
    reported = SelfReportedHours
    bounds = [scope(reported)]
    if own is not None:
        bounds.append(reported.participant == own)
    if first is not None:
        bounds.append(reported.completed_on >= first)
    if last is not None:
        bounds.append(reported.completed_on <= last)
    return select(
        reported.id.label("row_id"),
        literal(SELF_REPORTED, String).label("verification"),
        cast(null(), String).label("registration_id"),
        reported.id.label("self_reported_id"),
        reported.participant,
        reported.name,
        reported.registry_id,
        reported.tenant.label("jurisdiction"),
        reported.cohort_id,
        reported.minutes.label("minutes"),
        cast(null(), Integer).label("sessions_attended"),
        cast(null(), UTCDateTime()).label("completed_at"),
        reported.title,
        reported.provider,
        reported.completed_on,
        reported.updated_at.label("updated_at"),
        literal(ACTIVE, String).label("status"),
        cast(null(), String).label("cohort_status"),
        cast(null(), String).label("cancelled_reason"),
        reported.change.label("change"),
    ).where(*bounds)


def self_reported_scope(db: DbSession, who: Principal, jurisdiction: str | None):
    """What self-reported entries the caller sees: a jurisdiction's (admins, state systems), else their own."""
    if who.has(*RECORDERS, NATIONAL_ADMIN):
        return _jurisdiction_scope(db, who, jurisdiction)(SelfReportedHours)
    if jurisdiction is not None and jurisdiction != who.tenant:
        raise NotFound("No jurisdiction with this code.")
    return and_(SelfReportedHours.tenant == who.tenant, SelfReportedHours.participant == who.sub)


def self_reported_list(db: DbSession, who: Principal, jurisdiction: str | None):
    """A select of the self-reported entries the caller may list, for ``paginate`` on (updated_at, id)."""
    return select(SelfReportedHours).where(self_reported_scope(db, who, jurisdiction))


def self_reported_entry(db: DbSession, entry_id: str, who: Principal) -> SelfReportedHours:
    """One self-reported entry the caller may see; anyone else's (or another jurisdiction's) is a 404."""
    entry = db.scalars(
        select(SelfReportedHours).where(SelfReportedHours.id == entry_id, self_reported_scope(db, who, None))
    ).first()
    if entry is None:
        raise NotFound("No self-reported training with this id.")
    return entry
