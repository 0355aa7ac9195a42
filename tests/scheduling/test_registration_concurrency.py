"""Registrations racing for the last seats over real concurrent connections end exactly right, every time."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Cohort, Registration, RegistrationAudit, platform
from services.scheduling.repository import seats
from services.scheduling.use_cases import registrations as use_cases
from shared.auth import PARTICIPANT, Principal
from shared.db import Database
from tests.scheduling.factories import spots_taken
from tests.scheduling.test_registrations import auth, make_cohort, person

CONTENDERS, SEATS, ROUNDS = 50, 20, 3


def race(functions: list, *, timeout: float = 60) -> list[BaseException]:
    """Run every function in its own thread, released together by a barrier; return what they raised."""
    barrier = threading.Barrier(len(functions))
    failures: list[BaseException] = []

    def run(function):
        try:
            barrier.wait(timeout)
            function()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a registration never finished"
    return failures


def register_in_own_transaction(db: Database, cohort_id: str, n: int):
    def go():
        who = Principal(sub=f"racer-{n}", tenant="CA", roles=frozenset({PARTICIPANT}))
        with db.unit_of_work() as uow:
            use_cases.register(
                cohort_id,
                {"name": f"Racer {n}", "email": f"racer-{n}@example.org"},
                uow,
                who,
                correlationid=f"race-{n}",
            )

    return go


def assert_exactly(ctx, cohort_id: str, *, confirmed: int, waitlisted: int) -> None:
    with ctx.db.session() as session:
        rows = session.scalars(select(Registration).where(Registration.cohort_id == cohort_id)).all()
        by_status = Counter(row.status for row in rows)
        assert by_status == {"confirmed": confirmed, "waitlisted": waitlisted}
        positions = sorted(row.waitlist_position for row in rows if row.status == "waitlisted")
        assert positions == list(range(1, waitlisted + 1))  # unique, no gaps
        assert spots_taken(session, cohort_id) == (confirmed, waitlisted)
        assert session.get(Cohort, cohort_id).confirmed_count == confirmed
        ids = [row.id for row in rows]
        events = Counter(
            session.scalars(select(platform.outbox.event_type).where(platform.outbox.body.contains(cohort_id))).all()
        )
        assert events == {
            "scheduling.registration.confirmed": confirmed,
            "scheduling.registration.waitlisted": waitlisted,
        }
        audits = session.scalar(
            select(func.count()).select_from(RegistrationAudit).where(RegistrationAudit.registration_id.in_(ids))
        )
        assert audits == confirmed + waitlisted


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_50_concurrent_registrations_for_20_seats_every_time(scheduling_ctx, database):
    # Enough pooled connections that all 50 transactions are open on the server at once.
    db = Database(scheduling_ctx.db.url, schema=scheduling_ctx.db.schema, pool_size=CONTENDERS)
    try:
        for _round in range(ROUNDS):
            cohort_id = make_cohort(scheduling_ctx, capacity=SEATS)
            failures = race([register_in_own_transaction(db, cohort_id, n) for n in range(CONTENDERS)])
            assert failures == []
            assert_exactly(scheduling_ctx, cohort_id, confirmed=SEATS, waitlisted=CONTENDERS - SEATS)
    finally:
        db.dispose()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_50_concurrent_http_registrations_for_20_seats(scheduling_app, scheduling_ctx, tokens, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=SEATS)
    headers = [auth(tokens, person(n)) for n in range(CONTENDERS)]  # minted before the race
    responses: list = []

    def post(n):
        def go():
            client = scheduling_app.test_client()
            responses.append(
                client.post(
                    f"/cohorts/{cohort_id}/registrations",
                    headers=headers[n],
                    json={"name": f"P {n}", "email": f"p-{n}@example.org"},
                )
            )

        return go

    assert race([post(n) for n in range(CONTENDERS)]) == []
    assert sorted(r.status_code for r in responses) == [201] * CONTENDERS
    assert Counter(r.json["status"] for r in responses) == {"confirmed": SEATS, "waitlisted": CONTENDERS - SEATS}
    assert_exactly(scheduling_ctx, cohort_id, confirmed=SEATS, waitlisted=CONTENDERS - SEATS)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_concurrent_cancellations_promote_each_waiting_person_once(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=SEATS)
    db = Database(scheduling_ctx.db.url, schema=scheduling_ctx.db.schema, pool_size=CONTENDERS)
    try:
        assert race([register_in_own_transaction(db, cohort_id, n) for n in range(CONTENDERS)]) == []
        with scheduling_ctx.db.session() as session:
            leaving = session.scalars(
                select(Registration.id)
                .where(Registration.cohort_id == cohort_id, Registration.status == "confirmed")
                .limit(10)
            ).all()

        def cancel(registration_id):
            def go():
                with db.unit_of_work() as uow:
                    registration = uow.session.get(Registration, registration_id)
                    who = Principal(sub=registration.participant, tenant="CA", roles=frozenset({PARTICIPANT}))
                    uow.session.rollback()
                    use_cases.cancel(registration_id, {}, uow, who)

            return go

        # The same ten cancellations twice over: the second of each pair finds it cancelled (409).
        failures = race([cancel(rid) for rid in leaving] * 2)
        assert len(failures) == 10 and all(getattr(f, "status", None) == 409 for f in failures)
    finally:
        db.dispose()
    with scheduling_ctx.db.session() as session:
        rows = session.scalars(select(Registration).where(Registration.cohort_id == cohort_id)).all()
        assert Counter(row.status for row in rows) == {"confirmed": SEATS, "waitlisted": 20, "cancelled": 10}
        # Promoted: exactly the ten who waited longest (positions 1..10).
        still_waiting = sorted(row.waitlist_position for row in rows if row.status == "waitlisted")
        assert still_waiting == list(range(11, 31))
        assert session.get(Cohort, cohort_id).confirmed_count == SEATS
        promoted = session.scalar(
            select(func.count())
            .select_from(platform.outbox)
            .where(platform.outbox.event_type == "scheduling.registration.promoted")
        )
        assert promoted == 10


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_concurrent_registrations_on_sqlite_queue_for_the_write_lock(scheduling_ctx, database):
    # SQLite serialises writers; registrations must wait their turn rather than fail "database is locked".
    cohort_id = make_cohort(scheduling_ctx, capacity=8)
    assert race([register_in_own_transaction(scheduling_ctx.db, cohort_id, n) for n in range(20)]) == []
    assert_exactly(scheduling_ctx, cohort_id, confirmed=8, waitlisted=12)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_the_waitlist_grows_while_a_crowd_joins_it(scheduling_ctx, database, monkeypatch):
    # Few waitlist spots made in advance (20, as many as the seats): the crowd outgrows them.
    monkeypatch.setattr(seats, "WAITLIST_BATCH", 4)
    db = Database(scheduling_ctx.db.url, schema=scheduling_ctx.db.schema, pool_size=CONTENDERS)
    try:
        cohort_id = make_cohort(scheduling_ctx, capacity=SEATS)
        assert race([register_in_own_transaction(db, cohort_id, n) for n in range(CONTENDERS)]) == []
        assert_exactly(scheduling_ctx, cohort_id, confirmed=SEATS, waitlisted=CONTENDERS - SEATS)
    finally:
        db.dispose()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_seat_left_by_a_failed_registration_goes_to_whoever_was_waitlisted_meanwhile(
    scheduling_ctx, database, monkeypatch
):
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    seat_held, waitlisted = threading.Event(), threading.Event()
    real_insert_many = use_cases.insert_many

    def insert_many_then_fail_for_the_first(db, runs):  # racer-0 alone or among others arriving together
        (_registrations, rows), *_companions = runs
        if rows[0]["participant"] == "racer-0":
            seat_held.set()
            assert waitlisted.wait(30)
            raise RuntimeError("the server went away")
        return real_insert_many(db, runs)

    monkeypatch.setattr(use_cases, "insert_many", insert_many_then_fail_for_the_first)
    # Two API processes: within one, people registering at the same moment are written together.
    db, other_process = (
        Database(scheduling_ctx.db.url, schema=scheduling_ctx.db.schema, pool_size=4) for _ in range(2)
    )
    try:
        first = threading.Thread(
            target=lambda: pytest.raises(RuntimeError, register_in_own_transaction(db, cohort_id, 0))
        )
        first.start()
        assert seat_held.wait(30)
        register_in_own_transaction(other_process, cohort_id, 1)()  # finds the seat taken: waitlisted
        with scheduling_ctx.db.session() as session:
            assert (
                session.scalar(select(Registration.status).where(Registration.participant == "racer-1")) == "waitlisted"
            )
        waitlisted.set()
        first.join(30)
        assert not first.is_alive()
    finally:
        db.dispose()
        other_process.dispose()
    with scheduling_ctx.db.session() as session:
        rows = session.scalars(select(Registration).where(Registration.cohort_id == cohort_id)).all()
        assert [(row.participant, row.status) for row in rows] == [("racer-1", "confirmed")]
        assert spots_taken(session, cohort_id)[0] == 1
        promoted = session.scalars(
            select(RegistrationAudit).where(
                RegistrationAudit.registration_id == rows[0].id, RegistrationAudit.action == "promoted"
            )
        ).one()
        assert promoted.detail["cause"] == "seat_released" and promoted.by == "service:scheduling"
        assert (
            "scheduling.registration.promoted"
            in session.scalars(
                select(platform.outbox.event_type).where(platform.outbox.body.contains(rows[0].id))
            ).all()
        )
