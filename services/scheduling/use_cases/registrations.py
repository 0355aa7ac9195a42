"""Registration use cases: each locks the cohort, audits and announces every change, and commits once.

Seats and waitlist spots are rows claimed in parallel (``repository.seats``); the cohort's row lock
(``repository.registrations``) only decides what may run at once: registrations share it (FOR SHARE),
everything that frees or adds seats takes it alone (FOR NO KEY UPDATE), so a seat freed by a cancellation
goes to the waitlist first.

On PostgreSQL, people registering themselves for the same cohort at the same moment in one process
are written together, one transaction for the lot (``register_arrivals``, through
``shared.group_commit``): a crowd at a cohort's opening costs one transaction per batch rather
than one each.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from services.scheduling import SERVICE, events
from services.scheduling.domain import registrations as rules
from services.scheduling.models import Cohort, Registration, RegistrationAudit, platform
from services.scheduling.repository import STAFF, manages_cohort, seats
from services.scheduling.repository import registrations as registrations_repo
from shared.auth import FACILITATOR, INTEGRATION, Principal
from shared.db import Database, DbSession, IntegrityError, Row, UnitOfWork, insert_many, new_id, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.group_commit import group_commit_for
from shared.idempotency_keys import ClaimKeyFirst, PendingKey, claim_keys, store_answers
from shared.logging import get_logger
from shared.messaging.outbox import outbox_values

_VERBS = {rules.CONFIRMED: "confirmed", rules.WAITLISTED: "waitlisted"}
log = get_logger("registrations")


def releases_on_failure(use_case):
    """Roll the use case's transaction back the moment it fails, releasing the cohort's lock.

    Otherwise the lock lives until the request ends. A seat claimed in the failed transaction comes
    free again: it goes to the waitlist at once.
    """

    @functools.wraps(use_case)
    def run(*args, **kwargs):
        uow = next(a for a in (*args, *kwargs.values()) if isinstance(a, UnitOfWork))
        try:
            return use_case(*args, **kwargs)
        except BaseException:
            uow.rollback()
            for cohort_id in seats.forget_seats_claimed(uow.session):
                hand_on_free_seats(uow, cohort_id)
            raise
        finally:
            seats.forget_seats_claimed(uow.session)

    return run


def hand_on_free_seats(uow: UnitOfWork, cohort_id: str) -> list[Registration]:
    """Promote the waitlist into seats left free, in a transaction of its own; [] if none were.

    Seats are never free while people wait, except for a moment when a registration that claimed a
    seat fails (others, finding no seat, joined the waitlist meanwhile).
    """
    db = uow.session
    try:
        cohort = registrations_repo.locked_cohort(db, cohort_id)  # a service's own act: no jurisdiction to scope it to
        if cohort is None:
            uow.rollback()
            return []
        system = Principal(sub=f"service:{SERVICE}", tenant=cohort.tenant)
        promoted = fill_seats(db, cohort, system, cause="seat_released")
        uow.commit()
        return promoted
    except Exception:
        uow.rollback()
        log.exception("seats left free could not go to the waitlist", cohort_id=cohort_id)
        return []


def hand_on_all_free_seats(db: Database) -> int:
    """Promote the waitlist into seats left free anywhere (the scheduling worker runs this periodically).

    ``hand_on_free_seats`` runs when a registration fails after claiming a seat; this catches the
    process that died before it could (the database frees the seat, nobody hands it on). Returns the
    number of registrations promoted.
    """
    with db.session() as session:
        cohort_ids = seats.cohorts_with_free_seats_and_people_waiting(session)
    promoted = 0
    for cohort_id in cohort_ids:
        with db.unit_of_work() as uow:
            promoted += len(hand_on_free_seats(uow, cohort_id))
    if promoted:
        log.info("seats left free went to the waitlist", promoted=promoted, cohorts=len(cohort_ids))
    return promoted


# --- who may do what ------------------------------------------------------------------------------


def registers_others(db: DbSession, cohort: Cohort, who: Principal) -> bool:
    """The cohort's managers, and state systems (integration) pushing rosters, register other people."""
    return manages_cohort(db, cohort, who) or who.has(INTEGRATION)


def _ensure_manages(db: DbSession, cohort: Cohort, who: Principal) -> None:
    if not manages_cohort(db, cohort, who):
        raise Forbidden("Only the cohort's agency coordinators and jurisdiction admins may do this.")


def _ensure_owner_or_manager(db: DbSession, cohort: Cohort, registration: Registration, who: Principal) -> None:
    if registration.participant == who.sub or manages_cohort(db, cohort, who):
        return
    if who.has(*STAFF):
        raise Forbidden("Only the participant and the cohort's managers may change this registration.")
    raise NotFound("No registration with this id.")  # a participant does not learn of others' registrations


def reads_cohort_registrations(db: DbSession, cohort: Cohort, who: Principal) -> bool:
    return (
        manages_cohort(db, cohort, who)
        or who.has(INTEGRATION)
        or (who.has(FACILITATOR) and who.sub in (cohort.facilitators or []))
    )


# --- the changes ----------------------------------------------------------------------------------


def audit(db: DbSession, registration: Registration, action: str, who: Principal, **detail) -> None:
    db.add(
        RegistrationAudit(
            tenant=registration.tenant,
            registration_id=registration.id,
            action=action,
            by=who.sub,
            at=utcnow(),
            detail=detail,
        )
    )


def admit_newcomer(db: DbSession, cohort: Cohort | Row, registration: Registration) -> None:
    """A seat for the registration if one is free, else the next waitlist spot (the cohort is locked)."""
    position = seats.claim_seat_else_waitlist_spot(db, cohort.id, registration.id)
    registration.status, registration.waitlist_position = rules.newcomer_admitted(position)


def announce(db: DbSession, registration: Registration, who: Principal, correlationid: str) -> None:
    verb = _VERBS.get(registration.status)
    if verb is not None:  # a registration pending approval has no event until it is decided
        events.registration_changed(db, verb, registration, by=who.sub, correlationid=correlationid)


def fill_seats(
    db: DbSession, cohort: Cohort, who: Principal, *, cause: str, correlationid: str = ""
) -> list[Registration]:
    """Promote waitlisted registrations into the cohort's free seats, lowest position first.

    The cohort must be locked (``lock_cohort``) in the caller's transaction; the caller commits.
    Each promotion is audited and announced (``scheduling.registration.promoted``).
    """
    free = rules.seats_free(cohort.capacity, seats.seats_taken(db, cohort.id))
    if free == 0:
        return []
    chosen = rules.to_promote(free=free, waitlist=registrations_repo.head_of_waitlist(db, cohort.id, free))
    if not chosen:
        return []
    rows = registrations_repo.registrations_by_id(db, chosen)
    promoted = []
    for registration_id in chosen:
        registration = rows[registration_id]
        position = registration.waitlist_position
        if not seats.claim_seat(db, cohort.id, registration.id):
            break  # cannot happen while the cohort is locked; never confirm without a seat
        registration.status, registration.waitlist_position = rules.CONFIRMED, None
        audit(db, registration, "promoted", who, status=rules.CONFIRMED, from_waitlist_position=position, cause=cause)
        events.registration_changed(db, "promoted", registration, by=who.sub, correlationid=correlationid)
        promoted.append(registration)
    return promoted


@releases_on_failure
def register(
    cohort_id: str,
    data: dict,
    uow: UnitOfWork,
    who: Principal,
    *,
    correlationid: str = "",
    key: PendingKey | None = None,
) -> Registration:
    """Register the caller, or (for the cohort's managers and state systems) the participant named.

    Self-registration keeps the cohort's registration window and its approval step; a manager's
    registration is made outside the window if need be and counts as approved by that manager.
    Then: a seat while one remains, else the next spot on the waitlist.

    On PostgreSQL a self-registration first joins the batch of whoever registers for the cohort at
    the same moment (``register_arrivals``); what the batch leaves out is done here one by one.
    ``key``, the request's Idempotency-Key left for a batch to claim, is answered in the batch's
    transaction; if the batch leaves the registration out, ``ClaimKeyFirst`` is raised before
    anything is written, so that the key is claimed the usual way first.
    """
    db = uow.session
    named = data.get("participant")
    if named is None and who.via == "api_key":
        raise InvalidInput(
            "A state system registers someone: name the participant.",
            errors={"participant": ["Required when registering with an API key."]},
        )
    participant = named or who.sub
    # The batch is kept because make bench shows it where users feel it: 50 people on a cohort of 20
    # seats at its opening wait about half as long at the 99th percentile with it as one by one
    # (exactly 20 confirmed either way); spread over many cohorts it changes nothing (one per batch).
    # A registration with an Idempotency-Key joins it too, its answer stored in the batch's transaction.
    if participant == who.sub and registrations_repo.registers_arrivals_together(db) and not uow.holds_commits:
        registration = group_commit_for((db.get_bind(), cohort_id)).submit(
            Arrival(cohort_id, data, who, correlationid, key), functools.partial(register_arrivals, uow)
        )
        if registration is not None:
            return registration
        # Not the plain case (an error to explain, a registration again, an approval step): one by one.
    if key is not None:
        raise ClaimKeyFirst()
    cohort, existing = registrations_repo.cohort_for_registering(db, cohort_id, participant, who)
    on_behalf = participant != who.sub
    if on_behalf and not registers_others(db, cohort, who):
        raise Forbidden(
            "Only the cohort's coordinators and jurisdiction admins register someone else; "
            "leave `participant` out to register yourself."
        )
    rules.check_open(cohort.status)
    if not on_behalf:
        rules.check_window(utcnow(), cohort.registration_opens_at, cohort.registration_closes_at)
    rules.check_not_registered(existing.status if existing is not None else None)
    now = utcnow()
    registration = existing or Registration(
        id=new_id(), tenant=cohort.tenant, cohort_id=cohort.id, participant=participant, created_at=now
    )
    registration.name = data["name"]
    registration.email = data["email"]
    registration.contact_given_at = now
    registration.language = data.get("language")
    registration.registry_id = data.get("registry_id")
    registration.source = rules.COORDINATOR if on_behalf else rules.SELF
    registration.cancelled_reason = None
    registration.updated_at = now
    if cohort.requires_approval and not on_behalf:
        registration.status, registration.waitlist_position = rules.PENDING, None
    else:
        admit_newcomer(db, cohort, registration)
    detail = {
        "status": registration.status,
        "waitlist_position": registration.waitlist_position,
        "source": registration.source,
        "registered_again": existing is not None,
    }
    if existing is not None:
        audit(db, registration, "registered", who, **detail)
        announce(db, registration, who, correlationid)
        flush(db)
    else:
        # The hot path when a cohort opens: the registration, its audit entry and its event in one
        # round trip rather than an ORM flush.
        runs = [
            (Registration.__table__, [_row(registration)]),
            (RegistrationAudit.__table__, [_registered_entry(registration, by=who.sub, at=now, detail=detail)]),
        ]
        verb = _VERBS.get(registration.status)
        if verb is not None:
            event = events.registration_event(
                verb, registration, by=who.sub, correlationid=correlationid, cohort=cohort
            )
            runs.append((platform.outbox.__table__, [outbox_values(event)]))
        try:
            insert_many(db, runs)
        except IntegrityError:
            raise _registered_meanwhile() from None
    uow.commit()
    return registration


@dataclass(frozen=True)
class Arrival:
    """Someone registering themselves for a cohort, waiting to be written with whoever came at the same moment."""

    cohort_id: str
    data: dict
    who: Principal
    correlationid: str = ""
    key: PendingKey | None = None  # its Idempotency-Key, to claim and answer in the batch's transaction


def register_arrivals(uow: UnitOfWork, arrivals: list[Arrival]) -> list[Registration | None]:
    """PostgreSQL: people registering themselves for one cohort at the same moment, in one transaction.

    The group commit behind ``register`` when a crowd arrives (see ``shared.group_commit``): one read
    of the cohort (held FOR SHARE) and of who is already registered, one claim of seats then of
    waitlist spots for all of them in order of arrival, one statement for every registration, audit
    entry and event, one commit. Only the plain case is written here, a newcomer to an open cohort
    without an approval step; for anyone else the answer is None, and ``register`` goes on one by one,
    which explains any refusal itself. An arrival with an Idempotency-Key is written only if the batch
    claims its key (not if another request holds it: that one's answer, or a refusal, is for
    ``register`` to give), and its answer is stored beside its registration. If the batch fails,
    nothing of it is written (a seat it held goes to the waitlist) and everyone gets None.
    """
    db = uow.session
    outcomes: list[Registration | None] = [None] * len(arrivals)
    cohort_id = arrivals[0].cohort_id
    participants = [arrival.who.sub for arrival in arrivals]
    try:
        cohort = registrations_repo.cohort_for_arrivals(db, cohort_id, participants)
        if cohort is None:
            uow.rollback()
            return outcomes
        already = set(cohort.registered or ())
        now = utcnow()
        welcome: list[tuple[int, Registration]] = []
        for n, arrival in enumerate(arrivals):
            who = arrival.who
            if (
                who.sub in already
                or cohort.requires_approval
                or not (who.is_national or cohort.tenant == who.tenant)
                or not _takes_registrations(cohort, now)
            ):
                continue
            already.add(who.sub)  # the same person twice in a batch: the second learns why one by one
            welcome.append(
                (
                    n,
                    Registration(
                        id=new_id(),
                        tenant=cohort.tenant,
                        cohort_id=cohort_id,
                        participant=who.sub,
                        name=arrival.data["name"],
                        email=arrival.data["email"],
                        contact_given_at=now,
                        language=arrival.data.get("language"),
                        registry_id=arrival.data.get("registry_id"),
                        status=None,
                        waitlist_position=None,
                        source=rules.SELF,
                        cancelled_reason=None,
                        created_at=now,
                        updated_at=now,
                    ),
                )
            )
        keyed = [(n, arrivals[n].key) for n, _registration in welcome if arrivals[n].key is not None]
        if keyed:
            claimed = claim_keys(db, [key for _n, key in keyed])
            refused = {n for (n, _key), ok in zip(keyed, claimed, strict=True) if not ok}
            welcome = [(n, registration) for n, registration in welcome if n not in refused]
        if not welcome:
            uow.rollback()
            return outcomes
        positions = seats.claim_spots_for_newcomers(db, cohort_id, [r.id for _n, r in welcome], cohort)
        registrations, audits, announcements = [], [], []
        for n, registration in welcome:
            registration.status, registration.waitlist_position = rules.newcomer_admitted(positions[registration.id])
            position = registration.waitlist_position
            registrations.append(_row(registration))
            audits.append(
                _registered_entry(
                    registration,
                    by=registration.participant,
                    at=now,
                    detail={
                        "status": registration.status,
                        "waitlist_position": position,
                        "source": rules.SELF,
                        "registered_again": False,
                    },
                )
            )
            event = events.registration_event(
                _VERBS[registration.status],
                registration,
                by=registration.participant,
                correlationid=arrivals[n].correlationid,
                cohort=cohort,
            )
            announcements.append(outbox_values(event))
            outcomes[n] = registration
        insert_many(
            db,
            [
                (Registration.__table__, registrations),
                (RegistrationAudit.__table__, audits),
                (platform.outbox.__table__, announcements),
            ],
        )
        store_answers(db, [(arrivals[n].key, registration) for n, registration in welcome if arrivals[n].key])
        uow.commit()
        return outcomes
    except Exception as exc:
        uow.rollback()
        # The database's own message, without the statement's parameters (people's names and e-mails).
        cause = str(getattr(exc, "orig", None) or exc).split("\n", 1)[0]
        log.warning(
            "registrations arriving together could not be written together; one by one instead",
            cohort_id=cohort_id,
            arrivals=len(arrivals),
            error=type(exc).__name__,
            cause=cause,
        )
        for claimed_in in seats.forget_seats_claimed(db):
            hand_on_free_seats(uow, claimed_in)
        return [None] * len(arrivals)
    finally:
        seats.forget_seats_claimed(db)


def _row(registration: Registration) -> dict:
    """The registration's row, every column given (for ``insert_many``) but its change marker.

    The marker is the transaction's, written by the database (shared.changes): the column's default.
    """
    return {
        column.key: getattr(registration, column.key) for column in Registration.__table__.c if column.key != "change"
    }


def _registered_entry(registration: Registration, *, by: str, at, detail: dict) -> dict:
    """The audit trail's row for a registration just made."""
    return {
        "id": new_id(),
        "tenant": registration.tenant,
        "registration_id": registration.id,
        "action": "registered",
        "by": by,
        "at": at,
        "detail": detail,
    }


def _takes_registrations(cohort: Row, now) -> bool:
    """Whether the cohort is open and within its registration window (the rules' checks, as a question)."""
    try:
        rules.check_open(cohort.status)
        rules.check_window(now, cohort.registration_opens_at, cohort.registration_closes_at)
    except Conflict:
        return False
    return True


def _registered_meanwhile() -> Conflict:
    # Two registrations of one person at the same moment: the unique constraint keeps one of them.
    return Conflict(
        "This participant was registered at the same moment; read the registration again.",
        errors={"participant": ["Already registered."]},
    )


def flush(db: DbSession) -> None:
    try:
        db.flush()
    except IntegrityError:
        raise _registered_meanwhile() from None


@releases_on_failure
def cancel(
    registration_id: str, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> Registration:
    """Cancel a registration (the participant's own, or as a manager); a freed seat goes to the waitlist."""
    db = uow.session
    cohort, registration = registrations_repo.lock_registration(db, registration_id, who)
    _ensure_owner_or_manager(db, cohort, registration, who)
    rules.check_cancellable(registration.status)
    was = registration.status
    if was == rules.CONFIRMED:
        seats.release_seat(db, registration.id)
    registration.status = rules.CANCELLED
    registration.waitlist_position = None
    registration.cancelled_reason = data.get("reason") or None
    audit(
        db,
        registration,
        "cancelled",
        who,
        status=rules.CANCELLED,
        previous_status=was,
        reason=registration.cancelled_reason,
    )
    events.registration_changed(db, "cancelled", registration, by=who.sub, correlationid=correlationid)
    fill_seats(db, cohort, who, cause="cancellation", correlationid=correlationid)
    uow.commit()
    return registration


@releases_on_failure
def approve(registration_id: str, uow: UnitOfWork, who: Principal, *, correlationid: str = "") -> Registration:
    """Approve a pending registration: a seat if one remains, else the next spot on the waitlist."""
    db = uow.session
    cohort, registration = registrations_repo.lock_registration(db, registration_id, who)
    _ensure_manages(db, cohort, who)
    rules.check_pending(registration.status)
    admit_newcomer(db, cohort, registration)
    audit(
        db, registration, "approved", who, status=registration.status, waitlist_position=registration.waitlist_position
    )
    announce(db, registration, who, correlationid)
    uow.commit()
    return registration


@releases_on_failure
def decline(
    registration_id: str, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> Registration:
    """Decline a pending registration; it ends cancelled, with the reason given."""
    db = uow.session
    cohort, registration = registrations_repo.lock_registration(db, registration_id, who)
    _ensure_manages(db, cohort, who)
    rules.check_pending(registration.status)
    registration.status = rules.CANCELLED
    registration.cancelled_reason = data.get("reason") or "Declined by the host agency."
    audit(db, registration, "declined", who, status=rules.CANCELLED, reason=registration.cancelled_reason)
    events.registration_changed(db, "cancelled", registration, by=who.sub, correlationid=correlationid)
    uow.commit()
    return registration


@dataclass(frozen=True)
class CapacityChange:
    cohort: Cohort
    promoted: list[Registration]


@releases_on_failure
def change_capacity(
    cohort_id: str, capacity: int, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> CapacityChange:
    """Set a cohort's capacity: never below its confirmed seats; new seats go to the waitlist in order."""
    db = uow.session
    cohort = registrations_repo.lock_cohort(db, cohort_id, who)
    _ensure_manages(db, cohort, who)
    rules.check_capacity(capacity, seats.seats_taken(db, cohort.id))
    if capacity > cohort.capacity:
        seats.add_seats(db, cohort.id, capacity - cohort.capacity)
    else:
        seats.remove_free_seats(db, cohort.id, cohort.capacity - capacity)
    cohort.capacity = capacity
    promoted = fill_seats(db, cohort, who, cause="capacity", correlationid=correlationid)
    uow.commit()
    return CapacityChange(cohort=cohort, promoted=promoted)


def seat_counts(db: DbSession, cohort: Cohort) -> dict[str, int]:
    """How many registrations of the cohort are in each status."""
    counts = registrations_repo.counts_by_status(db, cohort.id)
    return {status: counts.get(status, 0) for status in rules.STATUSES}


# --- reads --------------------------------------------------------------------------------------


def get_registration(db: DbSession, registration_id: str, who: Principal) -> Registration:
    """A registration the caller may see: their own, or any of their jurisdiction if they are staff."""
    registration = registrations_repo.registration_in_tenant(db, registration_id, who)
    if registration is None or not (registration.participant == who.sub or who.has(*STAFF)):
        raise NotFound("No registration with this id.")
    return registration


def cohort_for_registration_list(db: DbSession, cohort_id: str, who: Principal) -> Cohort:
    """The cohort whose registrations the caller lists: its managers, facilitators and state systems."""
    cohort = registrations_repo.cohort_in_tenant(db, cohort_id, who)
    if cohort is None:
        raise NotFound("No cohort with this id.")
    if not reads_cohort_registrations(db, cohort, who):
        raise Forbidden("Only the cohort's managers and facilitators list its registrations.")
    return cohort


def registration_for_audit(db: DbSession, registration_id: str, who: Principal) -> Registration:
    """A registration whose audit trail the caller reads: the cohort's managers only."""
    registration = get_registration(db, registration_id, who)
    _ensure_manages(db, db.get(Cohort, registration.cohort_id), who)
    return registration
