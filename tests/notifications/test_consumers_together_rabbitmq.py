"""Several batching consumers on one queue (as KEDA scales them) take their batches' locks in one order:
a mixed stream of a jurisdiction's events (sessions changing, registrations, plans naming specialists,
adaptations, a new default specialist) is handled by two of them at once with no batch deadlocked, and
every event once."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.notifications.models import Delivery
from shared.messaging.bus import Outgoing, Publisher
from shared.testing import wait_until
from tests.notifications.conftest import next_week, registration_event, session_data, session_event
from tests.notifications.test_coaching_notices import adaptation_submitted, default_specialist_changed, plan_opened
from tests.notifications.test_consumer_batches_rabbitmq import process_settings
from tests.notifications.test_consumer_rabbitmq import count

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]
COHORTS, SESSIONS_PER_COHORT, PEOPLE_PER_COHORT = 4, 2, 12


def mixed_stream(seed: int) -> list:
    """A jurisdiction's busy afternoon, shuffled as two consumers' batches would interleave it."""
    shuffle = random.Random(seed)
    starts = next_week()
    cohorts = []
    for c in range(COHORTS):
        cohort_id = str(uuid.uuid4())
        people = [f"p{c}-{n:02d}" for n in range(PEOPLE_PER_COHORT)]
        sessions = [
            session_data(
                starts + timedelta(days=7 * s, hours=c),
                session_id=str(uuid.uuid4()),
                cohort_id=cohort_id,
                registrants=people,
                facilitators=[f"fac-{c}"],
            )
            for s in range(SESSIONS_PER_COHORT)
        ]
        cohorts.append((cohort_id, people, sessions))
    first = [session_event("scheduled", data) for _, _, sessions in cohorts for data in sessions]
    rest = []
    for c, (cohort_id, people, sessions) in enumerate(cohorts):
        for person in people:
            verb = shuffle.choice(["confirmed", "confirmed", "waitlisted", "cancelled"])
            rest.append(registration_event(verb, person, f"{person}@example.org", cohort_id=cohort_id))
        for data in sessions:
            for sequence in (1, 2):
                moved = datetime.fromisoformat(data["starts_at"]) + timedelta(hours=sequence)
                rest.append(
                    session_event(
                        "rescheduled",
                        {**data, "sequence": sequence, "starts_at": moved.isoformat(), "reason": "Room change"},
                    )
                )
        trainer = f"fac-{c}"
        rest.append(
            plan_opened(trainer=trainer, trainer_name=f"Trainer {c}", specialist=f"spec-{c % 2}", specialist_name=None)
        )
        rest += [adaptation_submitted(trainer, revision, adaptation_id=f"adaptation-{c}") for revision in (1, 2)]
    now = datetime.now(UTC)
    rest += [default_specialist_changed(f"spec-{n}", now - timedelta(minutes=n)) for n in range(3)]
    shuffle.shuffle(rest)
    return first + rest


def consumer(ctx, log_path):
    command = [sys.executable, "-m", "tests.notifications.consumer_process", json.dumps(process_settings(ctx)), "batch"]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process, below
    process = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": os.getcwd()}, stdout=log, stderr=subprocess.STDOUT
    )
    return process, log


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_two_batching_consumers_share_a_mixed_stream_without_deadlock(notifications_ctx, broker, database, tmp_path):
    ctx = notifications_ctx
    bus = ctx.extra["bus"]
    events = mixed_stream(seed=7)
    with bus.connection(publishing=True) as conn:
        bus.declare(conn.default_channel)
        publisher = Publisher(bus, conn)
        for event in events:
            publisher.publish(Outgoing(event.id, bus.topology.exchange, event.type, event.to_json()))

    Inbox = ctx.tables.inbox
    handled_here = {e.id for e in events}
    started = [consumer(ctx, tmp_path / f"consumer-{n}.log") for n in range(2)]
    try:
        wait_until(
            lambda: count(ctx, Inbox) >= len(handled_here),
            timeout=120,
            message="every event handled by the two consumers",
        )
    finally:
        for process, log in started:
            process.terminate()
            process.wait(10)
            log.close()
    logs = "\n".join((tmp_path / f"consumer-{n}.log").read_text() for n in range(2))
    assert "deadlock" not in logs.lower()
    assert "batch failed" not in logs
    assert "handler failed" not in logs
    with ctx.db.session() as session:
        inbox = session.execute(select(Inbox.event_id, func.count()).group_by(Inbox.event_id)).all()
        assert {event_id for event_id, _ in inbox} >= handled_here
        assert all(n == 1 for _, n in inbox)
        assert session.scalar(select(func.count()).select_from(Delivery)) > 0
