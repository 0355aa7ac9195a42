"""Idempotency keys recover: a failed request frees its key and keeps nothing, keys expire, equivalent
JSON bodies are the same request, and concurrent retries of one key make one registration."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from services.scheduling.models import Cohort, Registration, platform
from services.scheduling.use_cases import registrations as use_cases
from shared.db import utcnow
from shared.housekeeping import prune
from tests.helpers import assert_problem, auth
from tests.scheduling.test_registrations import COORDINATOR, body_for, make_cohort, person, register

BACKENDS = ["sqlite", "postgres"]


def registrations_of(ctx, participant: str) -> int:
    with ctx.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Registration).where(Registration.participant == participant)
        )


def keys(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(platform.idempotency_key))


# On PostgreSQL a self-registration is written in a batch whose transaction stores its answer (the
# next tests); registering someone else, the coordinator's request goes the usual way there too.
@pytest.mark.parametrize(
    ("database", "by"), [("sqlite", None), ("postgres", COORDINATOR), ("sqlite", COORDINATOR)], indirect=["database"]
)
def test_a_request_that_fails_after_committing_keeps_nothing_and_its_retry_makes_one_registration(
    sclient, tokens, scheduling_ctx, database, monkeypatch, by
):
    """The failure comes after the registration was committed, where a crash or a lost answer would
    come: the retry with the same key must not find a registration made without its stored answer."""
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    real_register = use_cases.register

    def register_then_fail(*args, **kwargs):
        real_register(*args, **kwargs)  # commits
        raise RuntimeError("the process died before the answer was stored")

    caller, body = (person(1), None) if by is None else (by, body_for(person(1), participant="p-1"))
    monkeypatch.setattr(use_cases, "register", register_then_fail)
    keyed = {"Idempotency-Key": "retry-after-failure"}
    failed = register(sclient, tokens, cohort_id, caller, body, headers=keyed)
    assert failed.status_code == 500
    assert registrations_of(scheduling_ctx, "p-1") == 0
    assert keys(scheduling_ctx) == 0

    monkeypatch.setattr(use_cases, "register", real_register)
    retried = register(sclient, tokens, cohort_id, caller, body, headers=keyed)
    assert retried.status_code == 201, retried.get_data(as_text=True)
    again = register(sclient, tokens, cohort_id, caller, body, headers=keyed)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == retried.json["id"]
    assert registrations_of(scheduling_ctx, "p-1") == 1


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_request_that_fails_after_its_batch_committed_is_answered_by_its_retry(
    sclient, tokens, scheduling_ctx, database, monkeypatch
):
    """PostgreSQL, self-registration: the batch commits the registration with its stored answer, so a
    failure after that commit (where a crash or a lost answer would come) leaves both, never one alone,
    and the retry gets the stored answer."""
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    real_register = use_cases.register

    def register_then_fail(*args, **kwargs):
        real_register(*args, **kwargs)  # commits, in its batch
        raise RuntimeError("the process died after the batch committed")

    monkeypatch.setattr(use_cases, "register", register_then_fail)
    keyed = {"Idempotency-Key": "retry-after-batch"}
    failed = register(sclient, tokens, cohort_id, person(1), headers=keyed)
    assert failed.status_code == 500
    assert registrations_of(scheduling_ctx, "p-1") == 1
    assert keys(scheduling_ctx) == 1

    monkeypatch.setattr(use_cases, "register", real_register)
    retried = register(sclient, tokens, cohort_id, person(1), headers=keyed)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    with scheduling_ctx.db.session() as session:
        (registration_id,) = session.scalars(select(Registration.id).where(Registration.participant == "p-1")).all()
    assert retried.json["id"] == registration_id
    assert registrations_of(scheduling_ctx, "p-1") == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_refused_request_frees_its_key_at_once(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    set_status(scheduling_ctx, cohort_id, "closed")
    keyed = {"Idempotency-Key": "closed-cohort"}
    assert_problem(register(sclient, tokens, cohort_id, person(2), headers=keyed), 409)
    assert keys(scheduling_ctx) == 0
    set_status(scheduling_ctx, cohort_id, "open")
    assert register(sclient, tokens, cohort_id, person(2), headers=keyed).status_code == 201


def set_status(ctx, cohort_id: str, status: str) -> None:
    with ctx.db.unit_of_work() as uow:
        uow.session.execute(update(Cohort).where(Cohort.id == cohort_id).values(status=status))
        uow.commit()


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_equivalent_json_bodies_are_the_same_request(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    who = person(3)
    headers = {**auth(tokens, who), "Idempotency-Key": "same-meaning", "Content-Type": "application/json"}
    body = body_for(who)
    first = sclient.post(f"/cohorts/{cohort_id}/registrations", data=json.dumps(body), headers=headers)
    assert first.status_code == 201
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    again = sclient.post(f"/cohorts/{cohort_id}/registrations", data=reordered, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    changed = sclient.post(
        f"/cohorts/{cohort_id}/registrations", data=json.dumps({**body, "name": "Someone Else"}), headers=headers
    )
    assert_problem(changed, 422, "Idempotency-Key")


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_keys_expire_after_their_lifetime_and_are_pruned(sclient, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    keyed = {"Idempotency-Key": "expires"}
    first = register(sclient, tokens, cohort_id, person(4), headers=keyed)
    assert first.status_code == 201
    lifetime = timedelta(hours=scheduling_ctx.config.idempotency_key_ttl_hours)
    with scheduling_ctx.db.unit_of_work() as uow:
        uow.session.execute(
            update(platform.idempotency_key).values(created_at=utcnow() - lifetime - timedelta(minutes=1))
        )
        uow.commit()
    # Expired: the same key is a new request (here refused: p-4 is registered already), not a replay.
    expired = register(sclient, tokens, cohort_id, person(4), headers=keyed)
    assert "Idempotent-Replayed" not in expired.headers
    assert_problem(expired, 409)
    assert keys(scheduling_ctx) == 1  # the expired answer is still there until housekeeping
    prune(scheduling_ctx.db, scheduling_ctx.tables, scheduling_ctx.config)
    assert keys(scheduling_ctx) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_concurrent_retries_of_one_key_make_one_registration(scheduling_app, tokens, scheduling_ctx, database):
    cohort_id = make_cohort(scheduling_ctx, capacity=5)
    who = person(5)
    answers, start = [], threading.Barrier(12)

    def retry():
        client = scheduling_app.test_client()
        start.wait()
        answers.append(register(client, tokens, cohort_id, who, headers={"Idempotency-Key": "hammered"}))

    threads = [threading.Thread(target=retry) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [201] * 12, [a.get_data(as_text=True) for a in answers]
    assert len({a.json["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 11
    assert registrations_of(scheduling_ctx, "p-5") == 1
