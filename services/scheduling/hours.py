"""Training hours for state registries: one row per participant and cohort, from attendance, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session as DbSession

from shared.auth import Principal
from shared.errors import NotFound

from services.scheduling import repository as repo
from services.scheduling.domain import attendance as rules
from services.scheduling.models import Attendance, Cohort, Completion, Jurisdiction, Registration, Session

# Every row here is credited from attendance taken by the session's facilitators or managers.
# "self_reported" names hours a person declares without attendance records; registries that merge
# such sources use it, but this service never produces it.
VERIFIED = "verified"
CSV_COLUMNS = ("participant", "name", "registry_id", "jurisdiction", "cohort_id", "registration_id", "hours",
               "minutes", "sessions_attended", "completed", "completed_at", "verification", "updated_at")


def _later(a, b):
    """The later of two instants, either of which may be NULL (GREATEST is not portable to SQLite)."""
    return case((b.is_(None), a), (a.is_(None), b), (a >= b, a), else_=b)


def _jurisdiction_scope(db: DbSession, who: Principal, jurisdiction: str | None):
    """A row filter, for any tenant-owned model, of what the caller may export.

    Their own jurisdiction, or every one for a national admin, narrowed to ``jurisdiction`` when
    asked; another jurisdiction's code is a 404, as is an unknown one.
    """
    if jurisdiction is None:
        return lambda model: repo.in_tenant(model, who)
    if (not who.is_national and jurisdiction != who.tenant) or db.get(Jurisdiction, jurisdiction) is None:
        raise NotFound("No jurisdiction with this code.")
    return lambda model: model.tenant == jurisdiction


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
            bounds.append(Session.starts_at >= datetime.combine(first, time(), zone))
        if last is not None:
            bounds.append(Session.starts_at < datetime.combine(last + timedelta(days=1), time(), zone))
        clauses.append(and_(*bounds))
    return or_(*clauses) if clauses else false()


def training_hours_query(db: DbSession, who: Principal, args: dict):
    """A select of training-hours rows, ready for ``paginate`` on (updated_at, registration_id)."""
    scope = _jurisdiction_scope(db, who, args.get("jurisdiction"))
    attended = Attendance.status.in_(rules.ATTENDED)
    per_registration = (
        select(Attendance.registration_id.label("registration_id"),
               func.sum(case((attended, Attendance.minutes), else_=0)).label("minutes"),
               func.sum(case((attended, 1), else_=0)).label("sessions_attended"),
               func.max(Attendance.updated_at).label("marked_at"))
        .join(Session, Session.id == Attendance.session_id)
        .where(scope(Attendance), Session.status != rules.CANCELLED)
        .group_by(Attendance.registration_id))
    if args.get("from_") is not None or args.get("to") is not None:
        per_registration = (per_registration.join(Cohort, Cohort.id == Session.cohort_id)
                            .where(_window(db, scope(Cohort), args.get("from_"), args.get("to"))))
    totals = per_registration.subquery("totals")
    updated_at = _later(_later(totals.c.marked_at, Registration.updated_at), Completion.completed_at)
    rows = (select(Registration.id.label("registration_id"), Registration.participant, Registration.name,
                   Registration.registry_id, Registration.tenant.label("jurisdiction"), Registration.cohort_id,
                   totals.c.minutes, totals.c.sessions_attended, Completion.completed_at,
                   updated_at.label("updated_at"))
            .join(totals, totals.c.registration_id == Registration.id)
            .outerjoin(Completion, Completion.registration_id == Registration.id)
            .subquery("training_hours"))
    return select(rows), [rows.c.updated_at, rows.c.registration_id], rows.c.updated_at


def describe(row) -> dict:
    minutes = int(row.minutes or 0)
    return {
        "registration_id": row.registration_id, "participant": row.participant,
        "name": row.name or row.participant, "registry_id": row.registry_id, "jurisdiction": row.jurisdiction,
        "cohort_id": row.cohort_id, "hours": rules.hours(minutes), "minutes": minutes,
        "sessions_attended": int(row.sessions_attended or 0), "completed": row.completed_at is not None,
        "completed_at": row.completed_at, "verification": VERIFIED, "updated_at": row.updated_at,
    }


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # A cell starting with one of these runs as a formula in a spreadsheet (CSV injection, OWASP).
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(items: list[dict]) -> str:
    """The rows as CSV with a header row (RFC 4180 line endings)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow([_cell(item[column]) for column in CSV_COLUMNS])
    return out.getvalue()
