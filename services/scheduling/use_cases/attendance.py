"""Scheduling's use cases for attendance: mark a session in bulk, read its sheet, and apply the completion rule."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

from services.scheduling import events
from services.scheduling import repository as repo
from services.scheduling.domain import attendance as rules
from services.scheduling.domain.timezones import render
from services.scheduling.models import Attendance, Cohort, Completion, Registration, TrainingSession
from services.scheduling.repository import attendance as marks_repo
from services.scheduling.repository import facilitators as directory_repo
from services.scheduling.repository import lists
from services.scheduling.repository.attendance import attended_totals, cancelled_sessions
from services.scheduling.use_cases import hours
from shared.auth import FACILITATOR, INTEGRATION, SPECIALIST, Principal
from shared.db import DbSession, IntegrityError, UnitOfWork, new_id, utcnow
from shared.errors import Forbidden
from shared.http.pagination import paginate


def new_certificate_code() -> str:
    """A random, URL-safe, unguessable verification code (72 bits)."""
    return secrets.token_urlsafe(9)


def get_session(db: DbSession, session_id: str, who: Principal) -> TrainingSession:
    return repo.get_scoped(db, TrainingSession, session_id, who, what="session")


def may_mark(db: DbSession, session: TrainingSession, cohort: Cohort, who: Principal) -> bool:
    """The session's facilitators and the cohort's managers take attendance."""
    return repo.facilitates(session, who) or repo.manages_cohort(db, cohort, who)


def may_read(db: DbSession, session: TrainingSession, cohort: Cohort, who: Principal) -> bool:
    """Who may read a session's sheet: those who mark it, the cohort's facilitators, specialists and state systems."""
    if may_mark(db, session, cohort, who) or who.has(SPECIALIST, INTEGRATION):
        return True
    return who.has(FACILITATOR) and who.sub in (cohort.facilitators or [])


def record_attendance(
    session_id: str,
    records: Sequence[Mapping],
    uow: UnitOfWork,
    who: Principal,
    *,
    opens_minutes: int,
    correlationid: str = "",
    now: datetime | None = None,
) -> dict:
    """Mark (or re-mark) a session for many registrations at once; all records are written or none.

    Each record that changes emits ``scheduling.attendance.recorded``; a participant who thereby
    meets the completion rule completes, once.
    """
    db = uow.session
    marks_repo.take_write_lock_first(db)  # SQLite: concurrent sheets wait for each other
    session = get_session(db, session_id, who)
    # Every marking of a cohort takes its row lock on PostgreSQL, so concurrent sheets (and retries)
    # of one cohort run one after another: each sees the others' attendance and completions.
    cohort = repo.get_scoped(db, Cohort, session.cohort_id, who, what="cohort", for_update=True)
    marks_repo.reread_under_lock(db, session)  # its status as of the lock, not as of the first read
    if not may_mark(db, session, cohort, who):
        raise Forbidden("Only this session's facilitators and the cohort's managers take its attendance.")
    if who.display_name and repo.facilitates(session, who):
        # Certificates name their facilitators; scheduling knows them only by subject until they act.
        directory_repo.remember_facilitator_name(db, session.tenant, who.sub, who.display_name)
    rules.check_markable(
        session_status=session.status,
        cohort_status=cohort.status,
        starts_at=session.starts_at,
        now=now or utcnow(),
        opens_minutes=opens_minutes,
        opens_at_local=render(rules.marking_opens_at(session.starts_at, opens_minutes), cohort.time_zone),
    )

    ids = list(dict.fromkeys(record["registration_id"] for record in records))
    registrations = marks_repo.registrations_in_cohort(db, cohort.id, ids)
    length = rules.session_minutes(session.starts_at, session.ends_at)
    credited = rules.credit_records(
        records, length=length, registration_status={rid: r.status for rid, r in registrations.items()}
    )

    existing = marks_repo.marks_of(db, session.id, ids)
    changed: list[Attendance] = []
    for record, minutes in zip(records, credited, strict=True):
        row = existing.get(record["registration_id"])
        if row is None:
            row = Attendance(
                id=new_id(),
                tenant=session.tenant,
                session_id=session.id,
                registration_id=record["registration_id"],
                status=record["status"],
                minutes=minutes,
                recorded_by=who.sub,
            )
            db.add(row)
        elif (row.status, row.minutes) != (record["status"], minutes):
            row.status, row.minutes, row.recorded_by = record["status"], minutes, who.sub
        else:
            continue  # the same mark again (a retry): nothing changed, nothing to announce
        changed.append(row)
    db.flush()
    for row in changed:
        events.attendance_recorded(db, row, session, registrations[row.registration_id], correlationid=correlationid)
    completed = complete_eligible(db, cohort, [registrations[rid] for rid in ids], correlationid=correlationid)
    hours.refresh(db, [row.registration_id for row in changed] + [c.registration_id for c in completed])
    uow.commit()
    return attendance_sheet(db, session, cohort, opens_minutes=opens_minutes)


def read_sheet(session_id: str, db: DbSession, who: Principal, *, opens_minutes: int) -> dict:
    session = get_session(db, session_id, who)
    cohort = session.cohort
    if not may_read(db, session, cohort, who):
        raise Forbidden("Only the cohort's facilitators, managers and specialists read its attendance.")
    return attendance_sheet(db, session, cohort, opens_minutes=opens_minutes)


def summarize_attendance(session_ids: list[str], db: DbSession, who: Principal, *, opens_minutes: int) -> list[dict]:
    """How far attendance is taken in each of these sessions, for one who may read each sheet.

    Any session unknown in the caller's jurisdiction is a 404, and one whose sheet they may not read a
    403, as for the sheet itself: the answer covers every session asked for, or none.
    """
    unique = list(dict.fromkeys(session_ids))
    found = repo.get_many_scoped(
        db, TrainingSession, unique, who, what="session", load=[TrainingSession.cohort]
    )  # each sheet's reader is decided on its cohort: all of them in one more query, not one per session
    sessions = {s.id: s for s in found}
    for session_id in unique:
        session = sessions[session_id]
        if not may_read(db, session, session.cohort, who):
            raise Forbidden(
                f"Only the cohort's facilitators, managers and specialists read session {session_id}'s attendance."
            )
    counts = marks_repo.attendance_counts(db, unique)
    return [
        {
            "session_id": session_id,
            "session_status": sessions[session_id].status,
            "marking_opens_at": rules.marking_opens_at(sessions[session_id].starts_at, opens_minutes),
            "marked": counts[session_id][0],
            "unmarked": counts[session_id][1],
        }
        for session_id in unique
    ]


def my_attendance_page(db: DbSession, who: Principal, args: dict, config) -> dict:
    """A page of the caller's own marks, by their sessions' start: a participant checks that each session they
    attended is counted before they ask their facilitator to correct one."""
    page = paginate(
        db,
        lists.my_attendance(who, args.get("cohort_id")),
        order_by=[TrainingSession.starts_at, Attendance.id],
        args=args,
        config=config,
    )
    page["items"] = [
        {
            **row._mapping,
            "local_start": render(row.starts_at, row.time_zone),
            "hours": rules.hours(row.minutes),
        }
        for row in page["items"]
    ]
    return page


def attendance_sheet(db: DbSession, session: TrainingSession, cohort: Cohort, *, opens_minutes: int) -> dict:
    """The session's roster with each confirmed (or already marked) registration's mark."""
    marks = marks_repo.marks_of(db, session.id)
    registrations = marks_repo.cohort_registrations(db, cohort.id)
    rows = []
    for registration in sorted(registrations, key=lambda r: ((r.name or r.participant).casefold(), r.id)):
        mark = marks.get(registration.id)
        if mark is None and registration.status != rules.CONFIRMED:
            continue
        rows.append(
            {
                "registration_id": registration.id,
                "participant": registration.participant,
                "name": registration.name or registration.participant,
                "registration_status": registration.status,
                "status": mark.status if mark else None,
                "minutes": mark.minutes if mark else None,
                "hours": rules.hours(mark.minutes) if mark else None,
                "recorded_by": mark.recorded_by if mark else None,
                "updated_at": mark.updated_at if mark else None,
            }
        )
    return {
        "session_id": session.id,
        "cohort_id": cohort.id,
        "title": session.title,
        "session_status": session.status,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "time_zone": cohort.time_zone,
        "local_start": render(session.starts_at, cohort.time_zone),
        "session_minutes": rules.session_minutes(session.starts_at, session.ends_at),
        "marking_opens_at": rules.marking_opens_at(session.starts_at, opens_minutes),
        "records": rows,
    }


# --- completion ---------------------------------------------------------------------------------


def complete_eligible(
    db: DbSession, cohort: Cohort, registrations: Sequence[Registration], *, correlationid: str = ""
) -> list[Completion]:
    """Complete each confirmed registration that meets the cohort's rule and has not completed yet.

    A completion is a fact: correcting attendance later does not withdraw it, and
    ``scheduling.participant.completed`` is emitted once per participant and cohort.
    """
    candidates = [r for r in registrations if r.status == rules.CONFIRMED]
    if not candidates:
        return []
    done = marks_repo.completed_among(db, cohort.id, [r.id for r in candidates])
    pending = [r for r in candidates if r.id not in done]
    if not pending:
        return []
    cancelled = cancelled_sessions(db, cohort.id)
    totals = attended_totals(db, cohort.id, [r.id for r in pending])
    created = []
    for registration in pending:
        sessions, minutes = totals.get(registration.id, (0, 0))
        if not rules.completes(sessions, cohort.completion_minimum, cancelled):
            continue
        completion = _insert_completion(db, cohort, registration, sessions, minutes)
        if completion is not None:
            events.participant_completed(db, completion, cohort, registration, correlationid=correlationid)
            created.append(completion)
    return created


def _insert_completion(
    db: DbSession, cohort: Cohort, registration: Registration, sessions: int, minutes: int
) -> Completion | None:
    """Insert the completion in a savepoint; None if another transaction completed the participant first.

    The unique (cohort, registration) constraint is the last wall against a second completion,
    whatever the engine or locking; a clash on the certificate code (72 random bits) draws again.
    """
    for _attempt in range(3):
        completion = Completion(
            id=new_id(),
            tenant=cohort.tenant,
            cohort_id=cohort.id,
            registration_id=registration.id,
            participant=registration.participant,
            sessions_attended=sessions,
            minutes=minutes,
            certificate_code=new_certificate_code(),
            completed_at=utcnow(),
        )
        try:
            with db.begin_nested():
                db.add(completion)
            registration.updated_at = completion.completed_at  # a new change: its lists show it completed
            return completion
        except IntegrityError:
            if marks_repo.has_completed(db, cohort.id, registration.id):
                return None
    raise RuntimeError("could not draw a unique certificate code")
