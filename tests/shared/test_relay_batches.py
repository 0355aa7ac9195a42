"""The relay's batched confirms on the real broker: only what the broker confirmed is marked sent."""

from __future__ import annotations

import json
import uuid

import pika
import pytest
from sqlalchemy import select

from shared.messaging.bus import BatchPublisher
from shared.messaging.outbox import OutboxRelay, add_direct, add_event
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT
from tests.helpers import pika_params
from tests.shared import probe
from tests.shared.test_messaging import db  # noqa: F401 (a fixture)

RABBITMQ = [
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq])
]


def statuses(db) -> list[tuple[str, str]]:
    Outbox = probe.tables.outbox
    with db.session() as session:
        return [tuple(r) for r in session.execute(select(Outbox.message_id, Outbox.status).order_by(Outbox.id))]


def take_all(channel, queue: str) -> list[str]:
    ids = []
    while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
        ids.append(json.loads(got[2])["id"])
    return ids


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
def test_a_batch_with_one_nacked_message_leaves_exactly_that_one_for_the_next_round(db, broker):
    """A queue that holds four and refuses more (reject-publish): of a batch of five, the broker
    confirms four and nacks the fifth; the four are marked sent, the fifth alone stays pending and
    goes out in the next round, once there is room."""
    bus = probe.make_bus(broker)
    queue = f"{broker['namespace']}limited"
    admin = pika.BlockingConnection(pika_params(broker["url"]))
    channel = admin.channel()
    channel.queue_declare(queue, arguments={"x-max-length": 4, "x-overflow": "reject-publish"})
    events = [probe.material_event(f"Event {n}") for n in range(5)]
    with db.unit_of_work() as uow:
        for event in events:
            # Straight to the limited queue (the default exchange), so a refused message lands nowhere.
            add_direct(
                uow.session,
                probe.tables,
                message_id=event.id,
                queue=queue,
                body=event.to_json(),
                event_type=probe.EVENT_TYPE,
            )
        uow.commit()
    relay = OutboxRelay(db, probe.tables, bus, batch_size=50)
    conn = bus.connection(publishing=True, confirm_each=False)
    try:
        publisher = BatchPublisher(bus, conn)
        assert relay.relay_batch(publisher) == 4
        ids = [e.id for e in events]
        assert statuses(db) == [(i, OUTBOX_SENT) for i in ids[:4]] + [(ids[4], OUTBOX_PENDING)]
        assert take_all(channel, queue) == ids[:4]
        # The next round, on the same connection, publishes the one left, and only it.
        assert relay.relay_batch(publisher) == 1
        assert statuses(db) == [(i, OUTBOX_SENT) for i in ids]
        assert take_all(channel, queue) == ids[4:]
        assert relay.relay_batch(publisher) == 0
    finally:
        conn.release()
        admin.close()


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
def test_a_full_batch_is_confirmed_together_and_marked_sent(db, broker):
    """Two hundred events in one batch: every one confirmed (acks arrive one by one and many at a
    time), marked sent, and on the work queue exactly once."""
    bus = probe.make_bus(broker)
    events = [probe.material_event(f"Event {n} {uuid.uuid4()}") for n in range(200)]
    with db.unit_of_work() as uow:
        for event in events:
            add_event(uow.session, probe.tables, event)
        uow.commit()
    relay = OutboxRelay(db, probe.tables, bus, batch_size=200)
    conn = bus.connection(publishing=True, confirm_each=False)
    try:
        bus.declare(conn.default_channel)
        assert relay.relay_batch(BatchPublisher(bus, conn)) == 200
    finally:
        conn.release()
    assert {status for _, status in statuses(db)} == {OUTBOX_SENT}
    admin = pika.BlockingConnection(pika_params(broker["url"]))
    try:
        taken = take_all(admin.channel(), bus.topology.work_queue(probe.SUBSCRIPTION))
    finally:
        admin.close()
    assert sorted(taken) == sorted(e.id for e in events)
