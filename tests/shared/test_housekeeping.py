"""Housekeeping keeps the outbox, inbox and idempotency keys bounded over a long run, and never prunes
what a redelivery or a replay still needs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shared.db import utcnow
from shared.housekeeping import prune
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT
from shared.testing import wait_until
from tests.shared import probe

PAIRS = [
    pytest.param("sqlite", "filesystem", id="sqlite+filesystem"),
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq"),
]
RETENTION = SimpleNamespace(outbox_retention_hours=24, inbox_retention_hours=48, idempotency_key_ttl_hours=24)
HOURS_PER_ROUND = 12
EVENTS_PER_ROUND = 15


@pytest.fixture
def db(database):
    db = probe.make_db(database)
    yield db
    db.dispose()


def time_passes(db, hours: int) -> None:
    """Age every timestamp housekeeping reads, as if ``hours`` had gone by."""
    t = probe.tables
    with db.unit_of_work() as uow:
        for row in uow.session.scalars(select(t.outbox).where(t.outbox.sent_at.is_not(None))):
            row.sent_at -= timedelta(hours=hours)
        for row in uow.session.scalars(select(t.inbox)):
            row.handled_at -= timedelta(hours=hours)
        for row in uow.session.scalars(select(t.idempotency_key)):
            row.created_at -= timedelta(hours=hours)
        uow.commit()


def answered_key(db) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(
            probe.tables.idempotency_key(
                tenant="CA",
                principal="coord-ca",
                key=str(uuid.uuid4()),
                endpoint="/cohorts",
                request_hash="0" * 64,
                status_code=201,
                response_body="{}",
                response_headers={},
                created_at=utcnow(),
            )
        )
        uow.commit()


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_tables_stay_bounded_over_a_long_run(db, broker):
    """Ten rounds of 12 hours: events published and handled, keys answered; each round the worker's
    housekeeping runs. The tables hold at most what their retention covers, never the whole run."""
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    t = probe.tables
    highest = {"outbox": 0, "inbox": 0, "keys": 0}
    handled = 0
    with probe.Running(probe.consumer(db, bus, handler)) as consumer, probe.Running(probe.relay(db, bus)):
        wait_until(consumer.ready.is_set, message="consumer ready")
        for _round in range(10):
            for n in range(EVENTS_PER_ROUND):
                probe.stage(db, probe.material_event(f"event {n}"))
                answered_key(db)
            handled += EVENTS_PER_ROUND
            wait_until(lambda: probe.count(db, probe.Effect) == handled, timeout=30, message="events handled")
            wait_until(lambda: probe.count(db, t.inbox) >= min(handled, EVENTS_PER_ROUND), message="inbox rows")
            time_passes(db, HOURS_PER_ROUND)
            prune(db, t, RETENTION)
            highest = {
                "outbox": max(highest["outbox"], probe.count(db, t.outbox)),
                "inbox": max(highest["inbox"], probe.count(db, t.inbox)),
                "keys": max(highest["keys"], probe.count(db, t.idempotency_key)),
            }
    assert probe.count(db, probe.Effect) == 10 * EVENTS_PER_ROUND  # every event took effect, once
    # Retention 24 h = two rounds, 48 h = four rounds (a row aged exactly the retention is kept).
    assert highest["outbox"] <= 2 * EVENTS_PER_ROUND
    assert highest["keys"] <= 2 * EVENTS_PER_ROUND
    assert highest["inbox"] <= 4 * EVENTS_PER_ROUND
    with db.session() as session:
        assert not session.scalars(select(t.outbox).where(t.outbox.status == OUTBOX_PENDING)).first()


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_pending_events_and_the_inbox_rows_of_unresolved_dead_letters_are_kept(db):
    t = probe.tables
    old = utcnow() - timedelta(days=400)
    with db.unit_of_work() as uow:
        uow.session.add(
            t.outbox(
                message_id="never-sent",
                event_type="x",
                routing_key="x",
                body="{}",
                status=OUTBOX_PENDING,
                created_at=old,
            )
        )
        uow.session.add(
            t.outbox(
                message_id="sent-long-ago",
                event_type="x",
                routing_key="x",
                body="{}",
                status=OUTBOX_SENT,
                created_at=old,
                sent_at=old,
            )
        )
        for event_id in ("awaiting-replay", "long-done"):
            uow.session.add(
                t.inbox(consumer="probe.record_material", event_id=event_id, event_type="x", handled_at=old)
            )
        uow.session.add(
            t.dead_letter(
                queue="probe.record_material",
                message_key="awaiting-replay",
                event_id="awaiting-replay",
                body="{}",
                status="dead",
            )
        )
        uow.session.add(
            t.unfinished_run(consumer="probe.record_material", event_id="left-over", runs=1, started_at=old)
        )
        uow.session.add(
            t.unfinished_run(consumer="probe.record_material", event_id="running", runs=1, started_at=utcnow())
        )
        uow.commit()
    pruned = prune(db, t, RETENTION)
    assert (pruned.outbox, pruned.inbox, pruned.unfinished_runs) == (1, 1, 1)
    with db.session() as session:
        assert [r.message_id for r in session.scalars(select(t.outbox))] == ["never-sent"]
        assert [r.event_id for r in session.scalars(select(t.inbox))] == ["awaiting-replay"]
        session.scalars(select(t.dead_letter)).one().status = "discarded"
        session.commit()
    assert prune(db, t, RETENTION).inbox == 1
