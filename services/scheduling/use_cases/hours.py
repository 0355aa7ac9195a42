"""Training hours for state registries, as JSON or CSV: one row per participant and cohort from attendance
(verified), and one per training a participant reports having taken elsewhere (self-reported)."""

from __future__ import annotations

import csv
import io

from services.scheduling.domain import attendance as rules
from services.scheduling.models import RegistrationHours, SelfReportedHours
from services.scheduling.repository import hours as hours_repo
from services.scheduling.repository.hours import (
    CANCELLED_COHORT,
    RECORDERS,
    SELF_REPORTED,
    VOIDED,
)
from shared import spreadsheet
from shared.auth import PARTICIPANT, Principal
from shared.db import DbSession, UnitOfWork, new_id, utcnow
from shared.errors import Forbidden, InvalidInput
from shared.http.pagination import paginate

# Existing columns keep their positions; the self-reported details come after them (empty on verified rows), then
# the row's status, why it was voided, and its change marker.
CSV_COLUMNS = (
    "participant",
    "name",
    "registry_id",
    "jurisdiction",
    "cohort_id",
    "registration_id",
    "hours",
    "minutes",
    "sessions_attended",
    "completed",
    "completed_at",
    "verification",
    "updated_at",
    "self_reported_id",
    "title",
    "provider",
    "completed_on",
    "status",
    "void_reason",
    "change",
)


def refresh(db: DbSession, registration_ids) -> None:
    """Bring the registrations' hours rows up to date, in the caller's transaction; each gets a new change marker.

    Called by everything a verified row is computed from: attendance written, a session or a cohort
    cancelled, a completion, the person's name or registry id changed. A registration never marked
    in a session has no row (and is not exported).
    """
    ids = sorted(set(registration_ids))
    if not ids:
        return
    totals = hours_repo.attendance_totals(db, ids)
    if not totals:
        return
    rows = hours_repo.hours_rows(db, list(totals))
    registrations = hours_repo.registrations_by_id(db, list(totals))
    now = utcnow()
    for registration_id, total in totals.items():
        row = rows.get(registration_id)
        if row is None:
            registration = registrations[registration_id]
            row = RegistrationHours(
                registration_id=registration_id, tenant=registration.tenant, cohort_id=registration.cohort_id
            )
            db.add(row)
        row.minutes, row.sessions_attended = int(total.minutes or 0), int(total.sessions_attended or 0)
        row.sessions_marked = int(total.sessions_marked or 0)
        row.updated_at = now  # always an UPDATE, so always a new change marker
    db.flush()


def training_hours_page(db: DbSession, who: Principal, args: dict, config) -> dict:
    """A page of the training-hours export: verified and self-reported rows in one list, described.

    Ordered by updated_at then the row's id (with ``changed_after``: by change marker); each source is
    paged on its own index and the pages merged (``paginate``'s ``branches``).
    """
    order_by, updated_column, change_column = hours_repo.page_columns()
    page = paginate(
        db,
        None,
        order_by=order_by,
        args=args,
        config=config,
        updated_column=updated_column,
        change_column=change_column,
        branches=hours_repo.training_hours_branches(db, who, args),
    )
    page["items"] = [describe(row) for row in page["items"]]
    return page


def _void_reason(row) -> str | None:
    if row.status != VOIDED:
        return None
    if row.cohort_status == CANCELLED_COHORT:
        return "The cohort was cancelled" + (f": {row.cancelled_reason}" if row.cancelled_reason else ".")
    return "Every session this person was marked in was cancelled."


def describe(row) -> dict:
    minutes = int(row.minutes or 0)
    reported = row.verification == SELF_REPORTED
    voided = row.status == VOIDED
    return {
        "registration_id": row.registration_id,
        "self_reported_id": row.self_reported_id,
        "participant": row.participant,
        "name": row.name or row.participant,
        "registry_id": row.registry_id,
        "jurisdiction": row.jurisdiction,
        "cohort_id": row.cohort_id,
        "hours": 0.0 if voided else rules.hours(minutes),
        "minutes": 0 if voided else minutes,
        "sessions_attended": None if reported else (0 if voided else int(row.sessions_attended or 0)),
        "completed": row.completed_at is not None and not voided,
        "completed_at": row.completed_at,
        "verification": row.verification,
        "title": row.title,
        "provider": row.provider,
        "completed_on": row.completed_on,
        "updated_at": row.updated_at,
        "status": row.status,
        "void_reason": _void_reason(row),
        "change": row.change,
    }


def self_reported_page(db: DbSession, who: Principal, args: dict, config) -> dict:
    """A page of the self-reported entries the caller may list, by updated_at then id."""
    return paginate(
        db,
        hours_repo.self_reported_list(db, who, args.get("jurisdiction")),
        order_by=[SelfReportedHours.updated_at, SelfReportedHours.id],
        args=args,
        config=config,
        updated_column=SelfReportedHours.updated_at,
        change_column=SelfReportedHours.change,
    )


def get_self_reported(db: DbSession, entry_id: str, who: Principal) -> SelfReportedHours:
    """One self-reported entry the caller may see; anyone else's (or another jurisdiction's) is a 404."""
    return hours_repo.self_reported_entry(db, entry_id, who)


def report_hours(data: dict, uow: UnitOfWork, who: Principal) -> SelfReportedHours:
    """Record training taken elsewhere: the caller's own, or (admins, state systems) a participant's.

    The entry belongs to the caller's jurisdiction, whoever it is for.
    """
    db = uow.session
    participant = data.get("participant")
    on_behalf = participant is not None and participant != who.sub
    if on_behalf and not who.has(*RECORDERS):
        raise Forbidden(
            "Only jurisdiction admins and state systems record training for someone else; "
            "leave `participant` out to report your own."
        )
    if participant is None and not who.has(PARTICIPANT):
        raise InvalidInput(
            "Name the participant whose training this is.",
            errors={"participant": ["Required unless you report your own training."]},
        )
    cohort_id = data.get("cohort_id")
    if cohort_id is not None and hours_repo.cohort_of_jurisdiction(db, cohort_id, who.tenant) is None:
        raise InvalidInput(
            "No cohort with this id in your jurisdiction.",
            errors={"cohort_id": ["No cohort with this id in your jurisdiction."]},
        )
    name = data.get("name") or ("" if on_behalf else who.name)
    entry = SelfReportedHours(
        id=new_id(),
        tenant=who.tenant,
        participant=participant or who.sub,
        name=name or "",
        registry_id=data.get("registry_id"),
        title=data["title"],
        provider=data["provider"],
        completed_on=data["completed_on"],
        minutes=data["minutes"],
        cohort_id=cohort_id,
    )
    db.add(entry)
    uow.commit()
    return entry


def to_csv(items: list[dict]) -> str:
    """The rows as CSV with a header row (RFC 4180 line endings)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow([spreadsheet.cell(item[column]) for column in CSV_COLUMNS])
    return out.getvalue()
