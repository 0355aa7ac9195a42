"""Use cases for cohorts and their sessions: create, change, close, reopen or cancel cohorts; schedule,
reschedule, cancel and render sessions.

Every session write checks the bookings index for double-booked facilitators, specialists and rooms
(across all cohorts, series and jurisdictions) before it books, in the same transaction as its event.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.scheduling import events
from services.scheduling import repository as repo
from services.scheduling.domain import registrations as registration_rules
from services.scheduling.domain import sessions as rules
from services.scheduling.domain.conflicts import refuse_double_booking
from services.scheduling.models import Booking, Cohort, RegistrationAudit, Room, TrainingSession
from services.scheduling.repository import cohorts as cohorts_repo
from services.scheduling.repository import seats
from services.scheduling.repository import sessions as sessions_repo
from services.scheduling.repository.registrations import lock_cohort
from services.scheduling.use_cases import hours
from services.scheduling.use_cases.agencies import acting_agency, default_time_zone
from shared.auth import Principal
from shared.db import DbSession, UnitOfWork, new_id, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput

# --- cohorts --------------------------------------------------------------------------------------

_TIMES = ("starts_at", "ends_at")  # presented as local times, by the domain
_SETTINGS = (
    "title",
    "time_zone",
    "capacity",
    "facilitators",
    "registration_opens_at",
    "registration_closes_at",
    "requires_approval",
    "completion_minimum",
)


def new_cohort(
    db: DbSession,
    *,
    tenant: str,
    series_id: str,
    format_: str,
    host_agency_id: str | None,
    settings: dict,
    request_id: str | None = None,
) -> Cohort:
    """Add a cohort (not committed): the one way cohorts come to be, directly or from an approved request."""
    rules.check_registration_window(settings.get("registration_opens_at"), settings.get("registration_closes_at"))
    cohort = Cohort(
        id=new_id(),
        tenant=tenant,
        series_id=series_id,
        format=format_,
        host_agency_id=host_agency_id,
        request_id=request_id,
        status="open",
        **{name: settings[name] for name in _SETTINGS},
    )
    cohort.facilitators = rules.session_facilitators(cohort.facilitators, [])
    db.add(cohort)
    db.flush()
    seats.provide(db, cohort.id, cohort.capacity)
    return cohort


def create_cohort(data: dict, uow: UnitOfWork, who: Principal) -> Cohort:
    """A cohort of the caller's jurisdiction; an agency coordinator creates one only for an agency they coordinate."""
    db = uow.session
    agency_id = data.get("host_agency_id")
    acting_agency(db, agency_id, who, doing="creating a cohort")
    settings = {name: data.get(name) for name in _SETTINGS}
    settings["time_zone"] = data.get("time_zone") or default_time_zone(db, who.tenant)
    if not settings["time_zone"]:
        raise InvalidInput(
            "Your jurisdiction has no default time zone; send one.",
            errors={"time_zone": ["Required: the jurisdiction has no default."]},
        )
    settings["facilitators"] = settings["facilitators"] or []
    cohort = new_cohort(
        db,
        tenant=who.tenant,
        series_id=data["series_id"],
        format_=data["format"],
        host_agency_id=agency_id,
        settings=settings,
    )
    uow.commit()
    return cohort


def ensure_manages(db: DbSession, cohort: Cohort, who: Principal) -> None:
    if not repo.manages_cohort(db, cohort, who):
        raise Forbidden("Only the jurisdiction's admins and the host agency's coordinators manage this cohort.")


def update_cohort(cohort: Cohort, data: dict, uow: UnitOfWork, who: Principal) -> Cohort:
    """Change a cohort's settings. New facilitators are the default of sessions scheduled from now on."""
    ensure_manages(uow.session, cohort, who)
    rules.check_registration_window(
        data.get("registration_opens_at", cohort.registration_opens_at),
        data.get("registration_closes_at", cohort.registration_closes_at),
    )
    for name in ("title", "registration_opens_at", "registration_closes_at", "requires_approval", "completion_minimum"):
        if name in data:
            setattr(cohort, name, data[name])
    if "facilitators" in data:
        cohort.facilitators = rules.session_facilitators(data["facilitators"], [])
    uow.commit()
    return cohort


# --- cohorts: closing, reopening, cancelling --------------------------------------------------------

OPEN, CLOSED, CANCELLED = "open", "closed", "cancelled"


def _refuse(cohort: Cohort, action: str) -> None:
    raise Conflict(
        f"This cohort is {cohort.status}; it cannot be {action}.", errors={"status": [f"Is {cohort.status}."]}
    )


def _change_status(cohort_id: str, uow: UnitOfWork, who: Principal, change) -> Cohort:
    """Lock the cohort (before anything else), check the caller manages it, and apply ``change``.

    ``change(db, cohort)`` returns False when there is nothing to do (the cohort already is where
    it was asked to go). Any failure, or nothing to do, rolls back at once, releasing the lock.
    """
    db = uow.session
    try:
        cohort = lock_cohort(db, cohort_id, who)  # another jurisdiction's cohort is a 404
        ensure_manages(db, cohort, who)
        if change(db, cohort):
            uow.commit()
        else:
            uow.rollback()
    except BaseException:
        uow.rollback()
        raise
    return cohort


def close_cohort(cohort_id: str, uow: UnitOfWork, who: Principal) -> Cohort:
    """Stop new registrations; registrations, sessions and attendance go on. Closing a closed cohort is a no-op."""

    def close(_db, cohort: Cohort) -> bool:
        if cohort.status == CLOSED:
            return False
        if cohort.status != OPEN:
            _refuse(cohort, "closed")
        cohort.status = CLOSED
        return True

    return _change_status(cohort_id, uow, who, close)


def reopen_cohort(cohort_id: str, uow: UnitOfWork, who: Principal) -> Cohort:
    """Take registrations again (a closed cohort only; a cancelled one stays cancelled)."""

    def reopen(_db, cohort: Cohort) -> bool:
        if cohort.status == OPEN:
            return False
        if cohort.status != CLOSED:
            _refuse(cohort, "reopened")
        cohort.status = OPEN
        return True

    return _change_status(cohort_id, uow, who, reopen)


def cancel_cohort(cohort_id: str, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = "") -> Cohort:
    """Cancel a cohort, saying why, in one transaction: its scheduled sessions and active registrations too.

    Each session is cancelled as ``cancel_session`` does (its bookings released, its confirmed
    registrants told); then each confirmed, waitlisted or pending registration is cancelled, audited
    and announced. Cancelling a cancelled cohort is a no-op; a completed one cannot be cancelled.
    """
    reason = data["reason"].strip()

    def cancel(db: DbSession, cohort: Cohort) -> bool:
        if cohort.status == CANCELLED:
            return False
        if cohort.status not in (OPEN, CLOSED):
            _refuse(cohort, "cancelled")
        # FOR UPDATE, stronger than lock_cohort's: it waits for (and then stops) schedule_session's
        # FOR KEY SHARE, so no session is scheduled into the cohort while it is being cancelled.
        cohorts_repo.hold_cohort_exclusively(db, cohort.id)
        cohort.status = CANCELLED
        registrants = registrant_ids(db, cohort.id)
        for session in cohorts_repo.scheduled_sessions_locked(db, cohort.id):
            _cancel(db, session, reason, registrants, correlationid)
        for registration in cohorts_repo.active_registrations(db, cohort.id):
            was = registration.status
            registration.status = registration_rules.CANCELLED
            registration.waitlist_position = None
            registration.cancelled_reason = reason
            db.add(
                RegistrationAudit(
                    tenant=registration.tenant,
                    registration_id=registration.id,
                    action="cancelled",
                    by=who.sub,
                    at=utcnow(),
                    detail={
                        "status": registration_rules.CANCELLED,
                        "previous_status": was,
                        "reason": reason,
                        "cause": "cohort_cancelled",
                    },
                )
            )
            events.registration_changed(db, "cancelled", registration, by=who.sub, correlationid=correlationid)
        seats.release_all_seats(db, cohort.id)
        return True

    return _change_status(cohort_id, uow, who, cancel)


# --- sessions: writes -----------------------------------------------------------------------------


def registrant_ids(db: DbSession, cohort_id: str) -> list[str]:
    """Who a session change must reach: the cohort's confirmed participants."""
    return cohorts_repo.confirmed_participants(db, cohort_id)


def _describe(db: DbSession, tenant: str):
    """How a conflicting booking is named: its session, titled only when it is the caller's jurisdiction's."""

    def describe(booking: Booking) -> dict:
        described = {
            "resource": booking.resource,
            "owner_kind": booking.owner_kind,
            "owner_id": booking.owner_id,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
        }
        if booking.owner_kind == "session":
            described["session_id"] = booking.owner_id
            if booking.tenant == tenant:
                other = db.get(TrainingSession, booking.owner_id)
                if other is not None:
                    described.update(title=other.title, cohort_id=other.cohort_id)
        return described

    return describe


def _book(db: DbSession, session: TrainingSession, starts_at, ends_at) -> None:
    """Refuse a double booking of the session's people and room over [starts_at, ends_at), else book them."""
    resources = repo.session_resources(session)
    repo.lock_resources(db, resources)
    found = repo.conflicts(db, resources, starts_at, ends_at, exclude_owner=session.id)
    refuse_double_booking(found, _describe(db, session.tenant))
    repo.book(
        db,
        tenant=session.tenant,
        resources=resources,
        starts_at=starts_at,
        ends_at=ends_at,
        owner_kind="session",
        owner_id=session.id,
    )


def _room(db: DbSession, room_id: str | None, tenant: str) -> Room | None:
    if room_id is None:
        return None
    room = cohorts_repo.room_in(db, room_id, tenant)
    if room is None:
        raise InvalidInput(
            "The room does not exist in this jurisdiction.", errors={"room_id": ["No room with this id."]}
        )
    return room


def schedule_session(
    cohort: Cohort, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> TrainingSession:
    """Schedule a session of the cohort: its times, place and people, unless one of them is already booked."""
    db = uow.session
    ensure_manages(db, cohort, who)
    # FOR KEY SHARE on PostgreSQL, and the status as of the lock: a cohort being cancelled (which holds
    # FOR UPDATE) is waited for, then refused, so no scheduled session outlives its cohort's cancellation.
    cohort = cohorts_repo.cohort_for_scheduling(db, cohort.id)
    if cohort.status == CANCELLED:
        raise Conflict("This cohort is cancelled; it gets no new sessions.", errors={"status": ["Is cancelled."]})
    starts_at, ends_at = rules.check_times(data["starts_at"], data["ends_at"])
    rules.check_room_or_link(cohort.format, room_id=data.get("room_id"), meeting_url=data.get("meeting_url"))
    room = _room(db, data.get("room_id"), cohort.tenant)
    session = TrainingSession(
        id=new_id(),
        tenant=cohort.tenant,
        cohort=cohort,
        module_id=data["module_id"],
        module_position=data.get("module_position"),
        title=data["title"],
        starts_at=starts_at,
        ends_at=ends_at,
        # room_id as well as room: the bookings are derived from the columns before any flush sets them.
        room_id=room.id if room else None,
        room=room,
        meeting_url=data.get("meeting_url"),
        specialist=data.get("specialist"),
        facilitators=rules.session_facilitators(data.get("facilitators"), cohort.facilitators or []),
        status=rules.SCHEDULED,
        sequence=0,
    )
    db.add(session)
    _book(db, session, starts_at, ends_at)
    db.flush()
    events.session_changed(
        db, "scheduled", session, registrant_ids=registrant_ids(db, cohort.id), correlationid=correlationid
    )
    uow.commit()
    return session


def reschedule_session(
    session: TrainingSession, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> TrainingSession:
    """Move a session, saying why; its calendar SEQUENCE goes up and its registrants hear of it."""
    db = uow.session
    ensure_manages(db, session.cohort, who)
    rules.check_changeable(session.status)
    starts_at, ends_at = rules.check_times(data["starts_at"], data["ends_at"])
    # The cohort's lock, as attendance takes it: no sheet is marked while the session is moved.
    cohorts_repo.hold_cohort_exclusively(db, session.cohort_id)
    rules.check_movable(has_attendance=cohorts_repo.has_attendance(db, session.id))
    # Checked before anything changes, so a refused move leaves the session and its bookings as they were.
    _book(db, session, starts_at, ends_at)
    previous_starts_at = session.starts_at
    session.starts_at, session.ends_at = starts_at, ends_at
    session.sequence += 1
    events.session_changed(
        db,
        "rescheduled",
        session,
        registrant_ids=registrant_ids(db, session.cohort_id),
        correlationid=correlationid,
        reason=data["reason"].strip(),
        previous_starts_at=previous_starts_at,
    )
    uow.commit()
    return session


def cancel_session(
    session: TrainingSession, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> TrainingSession:
    """Cancel a session, saying why: its people and room are free again, and its registrants hear of it."""
    db = uow.session
    ensure_manages(db, session.cohort, who)
    rules.check_changeable(session.status)
    _cancel(db, session, data["reason"].strip(), registrant_ids(db, session.cohort_id), correlationid)
    uow.commit()
    return session


def _cancel(db: DbSession, session: TrainingSession, reason: str, registrants: list[str], correlationid: str) -> None:
    """Cancel one session (not committed): SEQUENCE up, its bookings released, its registrants told."""
    session.status = rules.CANCELLED
    session.cancel_reason = reason
    session.sequence += 1
    repo.release(db, session.id)
    db.flush()
    # The people marked in it lose its credit: their hours rows change in this transaction.
    hours.refresh(db, cohorts_repo.marked_registrations(db, session.id))
    events.session_changed(
        db, "cancelled", session, registrant_ids=registrants, correlationid=correlationid, reason=reason
    )


# --- sessions: what a reader sees -----------------------------------------------------------------


def _materials(db: DbSession, sessions: Sequence[TrainingSession]) -> dict[tuple[str, str], list[dict]]:
    """The current material versions of the sessions' modules, by (module, tenant): one query for a page."""
    module_ids = {s.module_id for s in sessions if s.module_id}
    tenants = {s.tenant for s in sessions}
    if not module_ids:
        return {}
    rows = sessions_repo.current_materials(db, module_ids, tenants)
    found: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        for tenant in tenants if row.tenant is None else (row.tenant,):
            found.setdefault((row.module_id, tenant), []).append(
                {
                    "material_id": row.material_id,
                    "kind": row.kind,
                    "title": row.title,
                    "version": row.version,
                    "media_type": row.media_type,
                    "url": row.url,
                    "national": row.tenant is None,
                    "published_at": row.published_at,
                }
            )
    return found


def _venue(session: TrainingSession) -> dict | None:
    if session.room is None:
        return None
    venue = session.room.venue
    return {
        "venue_id": venue.id,
        "venue": venue.name,
        "address": venue.address,
        "room": session.room.name,
        "accessibility": session.room.accessibility_notes,
    }


def present_sessions(
    db: DbSession, sessions: Sequence[TrainingSession], viewer_time_zone: str | None = None
) -> list[dict]:
    """Sessions as readers see them: UTC, the cohort's local time and zone, the viewer's, place and materials."""
    materials = _materials(db, sessions)
    shown = []
    for s in sessions:
        view = {name: getattr(s, name) for name in sessions_repo.SESSION_COLUMNS if name not in _TIMES}
        view.update(rules.render_times(s.starts_at, s.ends_at, s.cohort.time_zone, viewer_time_zone))
        view["place"] = _venue(s)  # the API calls it the session's place
        view["materials"] = materials.get((s.module_id, s.tenant), [])
        shown.append(view)
    return shown


def present_session(db: DbSession, session: TrainingSession, viewer_time_zone: str | None = None) -> dict:
    return present_sessions(db, [session], viewer_time_zone)[0]


def show_session(db: DbSession, session_id: str, who: Principal, viewer_time_zone: str | None = None) -> dict:
    """A session of the caller's jurisdiction as readers see it (GET by id: two statements, the session
    with its cohort and place, then its materials)."""
    return present_session(db, sessions_repo.session_to_show(db, session_id, who), viewer_time_zone)
