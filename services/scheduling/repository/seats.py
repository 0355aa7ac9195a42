"""A cohort's seats and waitlist spots: made with the cohort, claimed by registrations.

A registration takes the lowest free seat with ``FOR UPDATE SKIP LOCKED``: people registering at the
same moment each lock a different seat row and commit in parallel, and a cohort can never confirm
more people than it has seat rows (one per unit of capacity). When no seat is left they take the
next waitlist spot, claimed the same way. Waitlist spots are never handed out twice, so positions
grow in the order people joined and a promotion renumbers nobody. People registering together (one
batch of ``registrations.register_arrivals``) claim their spots in one statement, in their order.

What may run at once is decided by the lock on the cohort row (see ``registrations``): registrations
hold it FOR SHARE, which many holders share; whatever frees or adds seats (a cancellation, a capacity
change) holds it exclusively, so a freed seat is handed to the waitlist before anyone else sees it.

On SQLite the locking clauses are left out: its writers run one at a time anyway.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DbSession

from services.scheduling.domain.registrations import WAITLISTED as WAITLISTED_STATUS
from services.scheduling.models import Registration, Spot
from shared.db import is_postgres

SEAT = "seat"
WAITLIST = "waitlist"
# Waitlist spots are made at least this many at a time, when the last one is taken.
WAITLIST_BATCH = 100

_spots = Spot.__table__
# Where the session notes the cohorts its newcomers took seats in, until commit or rollback.
_SEATS_CLAIMED_IN = "scheduling.seats_claimed_in"


def _highest_number(cohort_id, kind: str):
    """The highest number among the cohort's spots of ``kind``, 0 if none (``cohort_id``: a value,
    a bound parameter or a column)."""
    return (
        select(func.coalesce(func.max(_spots.c.number), 0))
        .where(_spots.c.cohort_id == cohort_id, _spots.c.kind == kind)
        .scalar_subquery()
    )


def _highest(db: DbSession, cohort_id: str, kind: str) -> int:
    return db.execute(select(_highest_number(cohort_id, kind))).scalar_one()


def _add(db: DbSession, cohort_id: str, kind: str, first: int, count: int) -> None:
    """Spots ``first`` … ``first + count - 1``; numbers another transaction added first are kept."""
    if count <= 0:
        return
    if is_postgres(db):
        # The numbers made by the server: one small statement however many spots (a waitlist doubles).
        db.execute(_ADD_SPOTS, {"in_cohort": cohort_id, "kind": kind, "first": first, "last": first + count - 1})
        return
    rows = [
        {"cohort_id": cohort_id, "kind": kind, "number": n, "registration_id": None}
        for n in range(first, first + count)
    ]
    db.execute(sqlite.insert(_spots).values(rows).on_conflict_do_nothing())


def _add_spots_statement():
    numbers = (
        func.generate_series(bindparam("first", type_=Integer), bindparam("last", type_=Integer))
        .table_valued("number")
        .render_derived()
    )
    made = select(bindparam("in_cohort", type_=String), bindparam("kind", type_=String), numbers.c.number)
    return postgresql.insert(_spots).from_select(["cohort_id", "kind", "number"], made).on_conflict_do_nothing()


_ADD_SPOTS = _add_spots_statement()


def add_seats(db: DbSession, cohort_id: str, count: int) -> None:
    """``count`` more seats (a capacity raise)."""
    _add(db, cohort_id, SEAT, _highest(db, cohort_id, SEAT) + 1, count)


def provide(db: DbSession, cohort_id: str, capacity: int) -> None:
    """A new cohort's seats, and as many waitlist spots (at least WAITLIST_BATCH) made in advance."""
    _add(db, cohort_id, SEAT, 1, capacity)
    _add(db, cohort_id, WAITLIST, 1, max(WAITLIST_BATCH, capacity))


def remove_free_seats(db: DbSession, cohort_id: str, count: int) -> None:
    """Take away ``count`` free seats (a capacity cut; the caller checked that enough are free)."""
    doomed = (
        select(_spots.c.number)
        .where(_spots.c.cohort_id == cohort_id, _spots.c.kind == SEAT, _spots.c.registration_id.is_(None))
        .order_by(_spots.c.number.desc())
        .limit(count)
    )
    db.execute(
        delete(_spots).where(_spots.c.cohort_id == cohort_id, _spots.c.kind == SEAT, _spots.c.number.in_(doomed))
    )


def _claim_statement(kind: str, *, behind_the_waitlist: bool = False):
    """UPDATE the lowest free spot of ``kind`` in :in_cohort to :holder, RETURNING its number.

    ``behind_the_waitlist``: only if nobody is waitlisted. A newcomer never takes a seat ahead of the
    people waiting (a seat can come free with people waiting only for a moment after a failure).

    SKIP LOCKED: a spot another registration is claiming right now is passed over, not waited for.
    Only claims lock free spots, and a claim always takes the spot it locked, so finding none
    means that every free spot is being taken. (Waiting instead would hold locks on spots found
    taken on re-check, which deadlocks under load.)
    """
    cohort_id = bindparam("in_cohort")
    lowest_free = _free_spots(cohort_id, kind).limit(1).scalar_subquery()
    statement = (
        update(_spots)
        .where(
            _spots.c.cohort_id == cohort_id,
            _spots.c.kind == kind,
            _spots.c.number == lowest_free,
            _spots.c.registration_id.is_(None),
        )
        .values(registration_id=bindparam("holder"))
        .returning(_spots.c.number)
    )
    if behind_the_waitlist:
        statement = statement.where(~_people_waiting(cohort_id))
    return statement


def _free_spots(cohort_id, kind: str, *also):
    """The cohort's free spots of ``kind``, lowest first, each locked as it is read (SKIP LOCKED)."""
    return (
        select(_spots.c.number, *also)
        .where(_spots.c.cohort_id == cohort_id, _spots.c.kind == kind, _spots.c.registration_id.is_(None))
        .order_by(_spots.c.number)
        .with_for_update(skip_locked=True)
    )


def _people_waiting(cohort_id):
    """Whether anyone is waitlisted in the cohort (``cohort_id``: a value or a column)."""
    waiting = Registration.__table__
    return exists().where(waiting.c.cohort_id == cohort_id, waiting.c.status == WAITLISTED_STATUS)


def _seat_else_waitlist_statement():
    """On PostgreSQL, one round trip: a seat, and only if none was left, a waitlist spot.

    It also reads the highest waitlist spot there is, so that more are made before they run out.
    """
    seat = _claim_statement(SEAT, behind_the_waitlist=True).cte("seat")
    waitlist = _claim_statement(WAITLIST).where(~exists(select(seat.c.number))).cte("waitlist_spot")
    return select(
        select(seat.c.number).scalar_subquery().label("seat"),
        select(waitlist.c.number).scalar_subquery().label("waitlist_spot"),
        _highest_number(bindparam("in_cohort"), WAITLIST).label("highest_waitlist_spot"),
    )


# Built once: they run for every registration.
_CLAIM_SEAT = _claim_statement(SEAT)
_CLAIM_NEWCOMER_SEAT = _claim_statement(SEAT, behind_the_waitlist=True)
_CLAIM_WAITLIST_SPOT = _claim_statement(WAITLIST)
_SEAT_ELSE_WAITLIST = _seat_else_waitlist_statement()


def _claim(db: DbSession, statement, cohort_id: str, registration_id: str):
    """Run a claim statement for the registration: its result row (None if nothing was free)."""
    return db.connection().execute(statement, {"in_cohort": cohort_id, "holder": registration_id}).first()


def claim_seat(db: DbSession, cohort_id: str, registration_id: str) -> bool:
    """A seat for the registration, unless every free seat is taken or being taken.

    A registration that rolls back after claiming its seat frees it again; whoever was waitlisted
    meanwhile gets it from ``registrations.hand_on_free_seats``.
    """
    return _claim(db, _CLAIM_SEAT, cohort_id, registration_id) is not None


def claim_seat_else_waitlist_spot(db: DbSession, cohort_id: str, registration_id: str) -> int | None:
    """A seat (None), or else the number of the waitlist spot claimed for the registration.

    For a newcomer: a seat only while nobody waits (``behind_the_waitlist``).
    """
    if not is_postgres(db):
        if _claim(db, _CLAIM_NEWCOMER_SEAT, cohort_id, registration_id) is not None:
            _note_seats_claimed(db, cohort_id)
            return None
        return claim_waitlist_spot(db, cohort_id, registration_id)
    seat, position, highest = _claim(db, _SEAT_ELSE_WAITLIST, cohort_id, registration_id)
    if seat is not None:
        _note_seats_claimed(db, cohort_id)
        return None
    if position is None:
        return claim_waitlist_spot(db, cohort_id, registration_id)
    if position == highest - highest // 4:
        # Whoever takes the first spot of the last quarter makes more now (each number is handed
        # out once), so that the waitlist does not run out under a crowd, who would all wait then.
        _add_waitlist_spots(db, cohort_id, wait=False)
    return position


def _claim_many_statement(kind: str, *, behind_the_waitlist: bool = False):
    """``_claim_statement`` for the registrations :holders at once, in their order.

    The lowest free spots of ``kind`` (as many as there are holders, SKIP LOCKED) are paired with
    the holders by rank: the first holder gets the lowest spot. RETURNING holder and number; fewer
    rows than holders when fewer spots were free. The spots are updated by their primary key: they
    are locked by this statement's own search, so none changed in between. (Addressing them by
    physical row address instead was no faster in make bench's bursts, measured back to back.)
    """
    cohort_id = bindparam("in_cohort")
    holders_given = bindparam("holders", type_=postgresql.ARRAY(String))
    lowest_free = _free_spots(cohort_id, kind).limit(func.cardinality(holders_given))
    if behind_the_waitlist:
        lowest_free = lowest_free.where(~_people_waiting(cohort_id))
    lowest_free = lowest_free.subquery()
    # Materialised: the locking scan runs once, whatever the plan.
    free = (
        select(lowest_free.c.number, func.row_number().over(order_by=lowest_free.c.number).label("rank"))
        .cte("free")
        .prefix_with("MATERIALIZED")
    )
    holders = func.unnest(holders_given).table_valued("holder", with_ordinality="rank").render_derived()
    paired = (
        select(free.c.number, holders.c.holder)
        .join_from(free, holders, free.c.rank == holders.c.rank)
        .cte("paired")
        .prefix_with("MATERIALIZED")
    )
    return (
        update(_spots)
        .where(
            _spots.c.cohort_id == cohort_id,
            _spots.c.kind == kind,
            _spots.c.number == paired.c.number,
            _spots.c.registration_id.is_(None),
        )
        .values(registration_id=paired.c.holder)
        .returning(_spots.c.registration_id, _spots.c.number)
    )


_CLAIM_NEWCOMERS_SEATS = _claim_many_statement(SEAT, behind_the_waitlist=True)
_CLAIM_WAITLIST_SPOTS = _claim_many_statement(WAITLIST)


def availability(cohort_id):
    """Columns for a cohort's read (``cohort_id``: its id column): whether a newcomer could get a seat,
    and the highest waitlist spot made; what ``claim_spots_for_newcomers`` needs.

    Read while the cohort is held FOR SHARE, they stay true until commit, except that seats only
    get fewer (others registering take them) and the waitlist only longer.
    """
    free_seat = exists().where(
        _spots.c.cohort_id == cohort_id, _spots.c.kind == SEAT, _spots.c.registration_id.is_(None)
    )
    return [
        (free_seat & ~_people_waiting(cohort_id)).label("seat_for_newcomers"),
        _highest_number(cohort_id, WAITLIST).label("highest_waitlist_spot"),
    ]


def claim_spots_for_newcomers(db: DbSession, cohort_id: str, holders: list[str], cohort) -> dict[str, int | None]:
    """PostgreSQL: spots for several new registrations of the cohort, in their order of arrival.

    Seats while free and nobody waits (as ``claim_seat_else_waitlist_spot``), then the next
    waitlist spots in the same order. ``cohort``: the cohort's read with the ``availability`` columns
    (no seat is looked for when none was free). Returns each holder's waitlist spot, None for a seat.
    """
    connection = db.connection()
    taken: dict[str, int | None] = {}
    if cohort.seat_for_newcomers:
        taken.update(
            (holder, None)
            for holder, _number in connection.execute(
                _CLAIM_NEWCOMERS_SEATS, {"in_cohort": cohort_id, "holders": holders}
            )
        )
    if taken:
        _note_seats_claimed(db, cohort_id)
    waiting = [holder for holder in holders if holder not in taken]
    highest = cohort.highest_waitlist_spot
    while waiting:
        claimed = dict(connection.execute(_CLAIM_WAITLIST_SPOTS, {"in_cohort": cohort_id, "holders": waiting}).all())
        taken.update(claimed)
        if claimed and min(claimed.values()) <= highest - highest // 4 <= max(claimed.values()):
            _add_waitlist_spots(db, cohort_id, wait=False)  # as in claim_seat_else_waitlist_spot
        waiting = [holder for holder in waiting if holder not in claimed]
        if waiting:
            _add_waitlist_spots(db, cohort_id, wait=True)
            highest = _highest(db, cohort_id, WAITLIST)
    return taken


def _note_seats_claimed(db: DbSession, cohort_id: str) -> None:
    db.info.setdefault(_SEATS_CLAIMED_IN, set()).add(cohort_id)


def forget_seats_claimed(db: DbSession) -> set[str]:
    """The cohorts where newcomers took seats in the session's transaction, forgotten as they are read.

    Call it once the transaction ended: after a rollback those seats are free again, and go to the
    waitlist first (``registrations.hand_on_free_seats``); after a commit they are simply forgotten.
    """
    return db.info.pop(_SEATS_CLAIMED_IN, set())


def claim_waitlist_spot(db: DbSession, cohort_id: str, registration_id: str) -> int:
    """The next waitlist spot's number, making more spots when the last is taken."""
    while True:
        claimed = _claim(db, _CLAIM_WAITLIST_SPOT, cohort_id, registration_id)
        if claimed is not None:
            return claimed.number
        _add_waitlist_spots(db, cohort_id, wait=True)


def _add_waitlist_spots(db: DbSession, cohort_id: str, *, wait: bool) -> None:
    """As many new waitlist spots as there are already (at least WAITLIST_BATCH).

    On PostgreSQL they are made and committed in a short transaction of their own, by one
    registration at a time (an advisory lock on the cohort's waitlist): ``wait=False`` leaves it
    to whoever is already making them; ``wait=True`` waits for them and makes more only if there
    are still none free. SQLite has one writer, the caller's transaction: the spots go into it.
    """
    if not is_postgres(db):
        _double_the_waitlist_spots(db, cohort_id)
        return
    key = func.hashtextextended("waitlist:" + cohort_id, 0)
    with DbSession(db.get_bind()) as own:
        if not wait:
            if not own.execute(select(func.pg_try_advisory_xact_lock(key))).scalar():
                return
        else:
            own.execute(select(func.pg_advisory_xact_lock(key)))
            if own.execute(
                select(
                    exists().where(
                        _spots.c.cohort_id == cohort_id,
                        _spots.c.kind == WAITLIST,
                        _spots.c.registration_id.is_(None),
                    )
                )
            ).scalar():
                return  # made by whoever held the lock before us
        _double_the_waitlist_spots(own, cohort_id)
        own.commit()


def _double_the_waitlist_spots(db: DbSession, cohort_id: str) -> None:
    highest = _highest(db, cohort_id, WAITLIST)
    _add(db, cohort_id, WAITLIST, highest + 1, max(WAITLIST_BATCH, highest))


def release_seat(db: DbSession, registration_id: str) -> None:
    """Free the registration's seat (a cancellation); the caller hands it on with ``fill_seats``."""
    db.execute(
        update(_spots)
        .where(_spots.c.kind == SEAT, _spots.c.registration_id == registration_id)
        .values(registration_id=None)
    )


def release_all_seats(db: DbSession, cohort_id: str) -> None:
    db.execute(
        update(_spots).where(_spots.c.cohort_id == cohort_id, _spots.c.kind == SEAT).values(registration_id=None)
    )


def cohorts_with_free_seats_and_people_waiting(db: DbSession) -> list[str]:
    """Cohorts where a seat came free while people wait (see ``registrations.hand_on_free_seats``)."""
    return list(
        db.execute(
            select(_spots.c.cohort_id)
            .distinct()
            .where(_spots.c.kind == SEAT, _spots.c.registration_id.is_(None), _people_waiting(_spots.c.cohort_id))
        ).scalars()
    )


def seats_taken(db: DbSession, cohort_id: str) -> int:
    """Confirmed registrations, read afresh (call it after taking the cohort's lock)."""
    return db.execute(
        select(func.count())
        .select_from(_spots)
        .where(_spots.c.cohort_id == cohort_id, _spots.c.kind == SEAT, _spots.c.registration_id.is_not(None))
    ).scalar_one()
