"""Registrations with an Idempotency-Key written together in one transaction, each with its stored answer (PostgreSQL).

A keyed self-registration joins the group commit like any other (``register_arrivals``): the batch
claims its key, writes the registration and stores the answer the client gets, in one transaction. A
key another request holds leaves its arrival out of the batch, never the others, and that arrival
gets the stored answer or its refusal the usual way.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from services.scheduling.models import Registration, platform
from services.scheduling.use_cases import registrations as use_cases
from shared.auth import PARTICIPANT, Principal
from shared.db import utcnow
from shared.idempotency_keys import PendingKey
from tests.helpers import assert_problem, auth
from tests.scheduling.test_registration_concurrency import assert_exactly, race
from tests.scheduling.test_registrations import body_for, make_cohort, person

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)


def keyed_arrival(cohort_id: str, n: int, key: str | None = None) -> use_cases.Arrival:
    """Someone registering with an Idempotency-Key whose answer is the registration's id and status."""
    who = Principal(sub=f"p-{n}", tenant="CA", roles=frozenset({PARTICIPANT}))
    pending = PendingKey(
        platform.idempotency_key,
        "CA",
        who.sub,
        key or f"key-{n}",
        f"/cohorts/{cohort_id}/registrations",
        f"hash-{n}",
        utcnow(),
        answer=lambda r: (201, json.dumps({"id": r.id, "status": r.status}), {"Content-Type": "application/json"}),
    )
    return use_cases.Arrival(cohort_id, {"name": f"Person {n}", "email": f"p-{n}@example.org"}, who, f"c-{n}", pending)


def write_together(ctx, arrivals):
    with ctx.db.unit_of_work() as uow:
        return use_cases.register_arrivals(uow, arrivals)


def stored_answers(ctx) -> dict[tuple[str, str], tuple]:
    with ctx.db.session() as session:
        rows = session.scalars(select(platform.idempotency_key)).all()
        return {(r.principal, r.key): (r.status_code, r.response_body and json.loads(r.response_body)) for r in rows}


def test_keyed_arrivals_are_written_with_their_answers_in_the_batch(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=2)
    plain = use_cases.Arrival(
        cohort_id, {"name": "Plain", "email": "plain@example.org"}, Principal(sub="p-plain", tenant="CA")
    )
    batch = [keyed_arrival(cohort_id, 0), plain, keyed_arrival(cohort_id, 2)]
    outcomes = write_together(scheduling_ctx, batch)
    assert [(r.participant, r.status) for r in outcomes] == [
        ("p-0", "confirmed"),
        ("p-plain", "confirmed"),
        ("p-2", "waitlisted"),
    ]
    assert stored_answers(scheduling_ctx) == {
        ("p-0", "key-0"): (201, {"id": outcomes[0].id, "status": "confirmed"}),
        ("p-2", "key-2"): (201, {"id": outcomes[2].id, "status": "waitlisted"}),
    }
    assert batch[0].key.stored[0] == 201 and json.loads(batch[0].key.stored[1])["id"] == outcomes[0].id
    assert_exactly(scheduling_ctx, cohort_id, confirmed=2, waitlisted=1)


def test_an_arrival_whose_key_is_taken_is_left_out_and_the_others_are_written(scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=3)
    first = write_together(scheduling_ctx, [keyed_arrival(cohort_id, 1)])[0]
    # p-1 retries with the same key (already answered); p-3 sends one key twice in the same batch.
    batch = [keyed_arrival(cohort_id, 2), keyed_arrival(cohort_id, 1), keyed_arrival(cohort_id, 3, "twice")]
    batch.append(keyed_arrival(cohort_id, 3, "twice"))
    batch.append(keyed_arrival(cohort_id, 4))
    outcomes = write_together(scheduling_ctx, batch)
    assert [r and r.participant for r in outcomes] == ["p-2", None, "p-3", None, "p-4"]
    answers = stored_answers(scheduling_ctx)
    assert answers[("p-1", "key-1")] == (201, {"id": first.id, "status": "confirmed"})  # untouched
    assert answers[("p-3", "twice")] == (201, {"id": outcomes[2].id, "status": "confirmed"})
    assert len(answers) == 4
    assert_exactly(scheduling_ctx, cohort_id, confirmed=3, waitlisted=1)


def test_a_key_held_by_a_request_in_flight_waits_for_it_then_is_left_out(scheduling_ctx, database):
    """A retry that arrives while its first attempt is being written: the batch waits for that
    transaction on the key, then leaves the retry out (it replays the answer the usual way)."""
    cohort_id = make_cohort(scheduling_ctx, capacity=1)
    in_flight = scheduling_ctx.db.unit_of_work().__enter__()
    in_flight.session.add(
        platform.idempotency_key(
            tenant="CA", principal="p-1", key="key-1", endpoint="/x", request_hash="h", created_at=utcnow()
        )
    )
    in_flight.session.flush()
    outcomes: list = []
    writer = threading.Thread(
        target=lambda: outcomes.extend(write_together(scheduling_ctx, [keyed_arrival(cohort_id, n) for n in (1, 2, 3)]))
    )
    writer.start()
    time.sleep(0.5)
    assert writer.is_alive() and outcomes == []  # waiting on the key's row
    in_flight.commit()
    in_flight.__exit__(None, None, None)
    writer.join(30)
    assert [r and r.participant for r in outcomes] == [None, "p-2", "p-3"]
    assert_exactly(scheduling_ctx, cohort_id, confirmed=1, waitlisted=1)


def registration_requests(scheduling_app, tokens, cohort_id, count, *, key_of=lambda n: f"burst-{n}"):
    """One function per person posting a keyed registration, and where their answers go."""
    headers = [{**auth(tokens, person(n)), "Idempotency-Key": key_of(n)} for n in range(count)]
    answers: dict[int, object] = {}

    def post(n):
        def go():
            client = scheduling_app.test_client()
            answers[n] = client.post(
                f"/cohorts/{cohort_id}/registrations", headers=headers[n], json=body_for(person(n))
            )

        return go

    return [post(n) for n in range(count)], answers, headers


def test_a_keyed_burst_is_written_in_batches_and_every_answer_replays(
    scheduling_app, scheduling_ctx, tokens, database, monkeypatch
):
    cohort_id = make_cohort(scheduling_ctx, capacity=10)
    real, sizes = use_cases.register_arrivals, []

    def slow_first_batch(uow, arrivals):
        sizes.append(sum(a.key is not None for a in arrivals))
        if len(sizes) == 1:
            time.sleep(0.3)  # the crowd queues up behind the first batch
        return real(uow, arrivals)

    monkeypatch.setattr(use_cases, "register_arrivals", slow_first_batch)
    posts, answers, headers = registration_requests(scheduling_app, tokens, cohort_id, 30)
    assert race(posts) == []
    assert max(sizes) > 1  # keyed arrivals were written together
    assert sorted(a.status_code for a in answers.values()) == [201] * 30
    assert Counter(a.json["status"] for a in answers.values()) == {"confirmed": 10, "waitlisted": 20}
    assert not any("Idempotent-Replayed" in a.headers for a in answers.values())
    assert_exactly(scheduling_ctx, cohort_id, confirmed=10, waitlisted=20)
    with scheduling_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(platform.idempotency_key)) == 30

    client = scheduling_app.test_client()
    for n, first in answers.items():
        again = client.post(f"/cohorts/{cohort_id}/registrations", headers=headers[n], json=body_for(person(n)))
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.get_data() == first.get_data()  # the very answer the client got first
        assert again.headers["Location"] == first.headers["Location"] == f"/registrations/{first.json['id']}"
        changed = client.post(
            f"/cohorts/{cohort_id}/registrations", headers=headers[n], json={**body_for(person(n)), "name": "Other"}
        )
        assert_problem(changed, 422, "Idempotency-Key")
    with scheduling_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 30


def test_retries_during_a_burst_get_the_first_answer_and_a_reused_key_its_422(
    scheduling_app, scheduling_ctx, tokens, database
):
    """Everyone sends their request twice at once, and one person reuses their key for another body:
    one registration each, both answers alike, the reused key refused, nobody else held up by it."""
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    posts, answers, headers = registration_requests(scheduling_app, tokens, cohort_id, 12)
    retries: dict[int, object] = {}

    def retry(n, body):
        def go():
            client = scheduling_app.test_client()
            retries[n] = client.post(f"/cohorts/{cohort_id}/registrations", headers=headers[n], json=body)

        return go

    others = [retry(n, body_for(person(n))) for n in range(11)]
    others.append(retry(11, {**body_for(person(11)), "name": "Someone Else"}))
    assert race(posts + others) == []
    for n in range(11):
        pair = (answers[n], retries[n])
        assert [a.status_code for a in pair] == [201, 201], [a.get_data(as_text=True) for a in pair]
        assert pair[0].json == pair[1].json
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in pair) == 1
    twelfth = sorted((answers[11], retries[11]), key=lambda a: a.status_code)
    assert twelfth[0].status_code == 201
    assert_problem(twelfth[1], 422, "Idempotency-Key")  # the key was used with the other body
    assert_exactly(scheduling_ctx, cohort_id, confirmed=5, waitlisted=7)
