"""People registering for one cohort at the same moment, written together in one transaction (PostgreSQL).

``register`` hands self-registrations on PostgreSQL to ``register_arrivals`` through a group commit;
these tests give it batches directly, so that what is in a batch is known.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from services.scheduling.models import Cohort, Registration, RegistrationAudit, platform
from services.scheduling.use_cases import registrations as use_cases
from shared.auth import PARTICIPANT, Principal
from shared.db import utcnow
from shared.envelope import parse_event
from shared.errors import Conflict, NotFound
from tests.scheduling.factories import spots_taken
from tests.scheduling.test_registration_concurrency import assert_exactly
from tests.scheduling.test_registrations import make_cohort

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)


def arrival(cohort_id: str, n: int | str, *, tenant: str = "CA", name: str | None = None) -> use_cases.Arrival:
    who = Principal(sub=f"p-{n}", tenant=tenant, roles=frozenset({PARTICIPANT}))
    return use_cases.Arrival(
        cohort_id, {"name": name or f"Person {n}", "email": f"p-{n}@example.org"}, who, correlationid=f"arrival-{n}"
    )


def write_together(ctx, arrivals: list[use_cases.Arrival]) -> list[Registration | None]:
    with ctx.db.unit_of_work() as uow:
        return use_cases.register_arrivals(uow, arrivals)


def register_alone(ctx, arrival_: use_cases.Arrival) -> Registration:
    with ctx.db.unit_of_work() as uow:
        return use_cases.register(arrival_.cohort_id, arrival_.data, uow, arrival_.who)


def test_a_batch_takes_the_seats_then_the_waitlist_in_order_of_arrival(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=3)
    outcomes = write_together(scheduling_ctx, [arrival(cohort_id, n) for n in range(5)])
    assert [(r.participant, r.status, r.waitlist_position) for r in outcomes] == [
        ("p-0", "confirmed", None),
        ("p-1", "confirmed", None),
        ("p-2", "confirmed", None),
        ("p-3", "waitlisted", 1),
        ("p-4", "waitlisted", 2),
    ]
    assert_exactly(scheduling_ctx, cohort_id, confirmed=3, waitlisted=2)  # spots, audit entries and events
    with scheduling_ctx.db.session() as session:
        stored = {
            r.participant: (r.status, r.waitlist_position, r.source, r.email)
            for r in session.scalars(select(Registration).where(Registration.cohort_id == cohort_id))
        }
        assert stored["p-3"] == ("waitlisted", 1, "self", "p-3@example.org")
        events = [
            parse_event(body)
            for body in session.scalars(select(platform.outbox.body).where(platform.outbox.body.contains(cohort_id)))
        ]
        # Each event carries its own person's correlation id and waitlist position.
        assert {(e.data["participant"], e.correlationid, e.data["waitlist_position"]) for e in events} == {
            (f"p-{n}", f"arrival-{n}", None if n < 3 else n - 2) for n in range(5)
        }
        audit = session.scalars(
            select(RegistrationAudit).where(RegistrationAudit.registration_id == outcomes[4].id)
        ).one()
        assert (audit.action, audit.by, audit.detail["waitlist_position"]) == ("registered", "p-4", 2)


def test_the_next_batch_joins_the_end_of_the_waitlist(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    write_together(scheduling_ctx, [arrival(cohort_id, n) for n in range(3)])
    later = write_together(scheduling_ctx, [arrival(cohort_id, n) for n in range(3, 5)])
    assert [(r.status, r.waitlist_position) for r in later] == [("waitlisted", 2), ("waitlisted", 3)]
    assert_exactly(scheduling_ctx, cohort_id, confirmed=2, waitlisted=3)


def test_anyone_but_a_newcomer_is_left_to_register_alone_which_says_why(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    register_alone(scheduling_ctx, arrival(cohort_id, "already"))
    batch = [
        arrival(cohort_id, "new"),
        arrival(cohort_id, "already"),
        arrival(cohort_id, "new"),
        arrival(cohort_id, "texan", tenant="TX"),
        arrival(cohort_id, "other"),
    ]
    outcomes = write_together(scheduling_ctx, batch)
    assert [r and (r.participant, r.status) for r in outcomes] == [
        ("p-new", "confirmed"),
        None,
        None,
        None,
        ("p-other", "waitlisted"),
    ]
    with pytest.raises(Conflict):
        register_alone(scheduling_ctx, batch[1])  # already registered
    with pytest.raises(Conflict):
        register_alone(scheduling_ctx, batch[2])  # the same person twice in one batch
    with pytest.raises(NotFound):
        register_alone(scheduling_ctx, batch[3])  # another jurisdiction's cohort
    assert_exactly(scheduling_ctx, cohort_id, confirmed=2, waitlisted=1)


def _approval(ctx, cohort_id):
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(update(Cohort).where(Cohort.id == cohort_id).values(requires_approval=True))
        uow.commit()


def _closed(ctx, cohort_id):
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(update(Cohort).where(Cohort.id == cohort_id).values(status="closed"))
        uow.commit()


def _not_open_yet(ctx, cohort_id):
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(
            update(Cohort).where(Cohort.id == cohort_id).values(registration_opens_at=utcnow() + timedelta(days=1))
        )
        uow.commit()


@pytest.mark.parametrize("make_it_so", [_approval, _closed, _not_open_yet])
def test_a_cohort_that_takes_no_plain_registration_writes_nothing_in_a_batch(scheduling_ctx, database, make_it_so):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    make_it_so(scheduling_ctx, cohort_id)
    assert write_together(scheduling_ctx, [arrival(cohort_id, n) for n in range(3)]) == [None, None, None]
    with scheduling_ctx.db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Registration).where(Registration.cohort_id == cohort_id))
            == 0
        )
        assert spots_taken(session, cohort_id) == (0, 0)


def test_a_batch_for_a_cohort_that_does_not_exist_writes_nothing(scheduling_ctx, database):
    assert write_together(scheduling_ctx, [arrival("no-such-cohort", 1)]) == [None]


def test_a_batch_that_fails_writes_nothing_and_leaves_everyone_to_register_alone(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    # A name longer than its column (the API's schema would refuse it): the batch's insert fails.
    batch = [arrival(cohort_id, 0), arrival(cohort_id, 1, name="x" * 301), arrival(cohort_id, 2)]
    assert write_together(scheduling_ctx, batch) == [None, None, None]
    with scheduling_ctx.db.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Registration).where(Registration.cohort_id == cohort_id))
            == 0
        )
        assert spots_taken(session, cohort_id) == (0, 0)  # the seats it claimed are free again
        assert (
            session.scalar(
                select(func.count()).select_from(platform.outbox).where(platform.outbox.body.contains(cohort_id))
            )
            == 0
        )
    assert register_alone(scheduling_ctx, batch[0]).status == "confirmed"
    assert register_alone(scheduling_ctx, batch[2]).status == "confirmed"
    with scheduling_ctx.db.session() as session:
        assert spots_taken(session, cohort_id) == (2, 0)


def test_the_waitlist_spots_run_out_in_the_middle_of_a_batch(scheduling_ctx, database, monkeypatch):
    from services.scheduling.repository import seats

    monkeypatch.setattr(seats, "WAITLIST_BATCH", 2)
    cohort_id = make_cohort(scheduling_ctx, capacity=2)  # 2 seats, 2 waitlist spots made in advance
    outcomes = write_together(scheduling_ctx, [arrival(cohort_id, n) for n in range(9)])
    assert [r.waitlist_position for r in outcomes] == [None, None, 1, 2, 3, 4, 5, 6, 7]
    assert_exactly(scheduling_ctx, cohort_id, confirmed=2, waitlisted=7)
