"""A consumer's batches: one transaction for the messages that arrive together, and nothing lost,
duplicated or failed with a neighbour when one of them is poison or the batch is cut short."""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.messaging import consumer as consumer_module
from shared.messaging.bus import Bus, Outgoing, Publisher
from shared.messaging.consumer import EventConsumer
from shared.messaging.topology import Subscription, Topology
from shared.metrics import EVENTS_HANDLED
from shared.testing import wait_until
from tests.shared import probe
from tests.shared.test_messaging import PAIRS, db, dead_queue_depth, publish_raw  # noqa: F401 (db is a fixture)

BATCH = 10


class Recording(probe.Probe):
    """The probe's handler, noting which transaction (session) handled each event."""

    def __init__(self):
        super().__init__()
        self.sessions: dict[str, list[str]] = {}

    def record_material(self, event, uow) -> None:
        transaction = uow.session.info.setdefault("test_transaction", uuid.uuid4().hex)
        self.sessions.setdefault(event.data["title"], []).append(transaction)
        super().record_material(event, uow)


def publish_all(bus, events) -> None:
    """Put the events on the work queue before any consumer runs, so they arrive as one batch."""
    for n, event in enumerate(events):
        publish_raw(bus, event.to_json(), f"m{n}")


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_a_batch_is_handled_in_one_transaction(db, broker):
    bus = probe.make_bus(broker)
    handler = Recording()
    events = [probe.material_event(f"innocent {n}") for n in range(BATCH)]
    publish_all(bus, events)
    with probe.Running(probe.consumer(db, bus, handler, batch_size=BATCH)):
        wait_until(lambda: len(probe.effects(db)) == BATCH, message="the batch's effects")
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in events)
    assert len({s for runs in handler.sessions.values() for s in runs}) == 1  # one transaction for all


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_a_poison_message_in_a_batch_fails_alone(db, broker):
    bus = probe.make_bus(broker)
    handler = Recording()
    innocents = [probe.material_event(f"innocent {n}") for n in range(BATCH - 1)]
    poison = probe.material_event("poison")
    publish_all(bus, [*innocents[:4], poison, *innocents[4:]])
    with probe.Running(probe.consumer(db, bus, handler, batch_size=BATCH, collect_dead_letters=False)):
        wait_until(lambda: dead_queue_depth(bus, broker) == 1, timeout=30, message="the poison dead-lettered")
        wait_until(lambda: len(probe.effects(db)) == len(innocents), message="every innocent event's effect")
    # Each innocent event once, though the batch they came in was rolled back and handled again one by one.
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in innocents)
    # The poison ran in the batch, then alone with its own retries.
    assert len(handler.sessions["poison"]) == 2 + len(bus.topology.retry_delays)
    # The batch ran up to the poison in one transaction; everything then went one by one.
    batch = {handler.sessions[title][0] for title in ["innocent 0", "innocent 1", "innocent 2", "innocent 3", "poison"]}
    assert len(batch) == 1
    assert all(len(handler.sessions[f"innocent {n}"]) == (2 if n < 4 else 1) for n in range(BATCH - 1))


class CutShort(EventConsumer):
    """A consumer whose connection drops after its first batch commits, before any of it is acked."""

    dropped = False

    def handle_batch(self, queue, events):
        outcomes = super().handle_batch(queue, events)
        if not self.dropped:
            self.dropped = True
            raise ConnectionResetError("the connection dropped between the commit and the acks")
        return outcomes


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_a_half_handled_batch_delivered_again_has_no_second_effect(db, broker):
    bus = probe.make_bus(broker)
    handler = Recording()
    events = [probe.material_event(f"event {n}") for n in range(BATCH)]
    publish_all(bus, events)
    consumer = CutShort(bus, db, probe.tables, "probe", {"record_material": handler.record_material}, batch_size=BATCH)
    duplicates = EVENTS_HANDLED.labels(bus.topology.work_queue(probe.SUBSCRIPTION), "duplicate")
    before = duplicates._value.get()
    with probe.Running(consumer):
        wait_until(lambda: consumer.dropped, timeout=30, message="the first batch committed and cut short")
        wait_until(lambda: duplicates._value.get() - before == BATCH, timeout=30, message="the batch delivered again")
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in events)
    # The redelivered messages met their inbox rows: none reached the handler a second time.
    assert all(len(runs) == 1 for runs in handler.sessions.values())


COPY = Subscription("probe", "record_copy", (probe.EVENT_TYPE,))


class Died(BaseException):
    """The consumer's process ending at once: nothing after it runs, nothing is closed."""


class DiesAfterAnAckWhileAnotherQueueWaits(EventConsumer):
    """Dies just after it acks a batch of the first queue while the second queue's batch waits,
    handled but not committed, and therefore unacked."""

    waiting_in_second_queue = 0
    dead_connection = None

    def _ack_batch(self, messages) -> None:
        super()._ack_batch(messages)
        second = self.bus.topology.work_queue(COPY)
        if self._batches.get(second):
            self.waiting_in_second_queue = len(self._batches[second])
            self.dead_connection = messages[-1].channel.connection
            raise Died()


def run_until_it_dies(consumer) -> None:
    try:
        consumer.run()
    except Died:
        pass


@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_acking_a_batch_of_one_queue_leaves_another_queues_waiting_messages_unacked(db, broker, monkeypatch):
    """A batch is acked with one frame on RabbitMQ: it must settle that queue's messages only."""
    # The second queue's short batch waits for more (consumed first, it arrives first) while the
    # first queue's batches fill and are acked.
    monkeypatch.setattr(consumer_module, "BATCH_IDLE", 2.0)
    monkeypatch.setattr(consumer_module, "BATCH_MAX_WAIT", 5.0)
    topology = Topology(subscriptions=(COPY, probe.SUBSCRIPTION), namespace=broker["namespace"])
    bus = Bus(broker["url"], topology, folder=broker["folder"], connect_timeout=2)
    first, second = topology.work_queue(probe.SUBSCRIPTION), topology.work_queue(COPY)
    firsts = [probe.material_event(f"first {n}") for n in range(4 * BATCH)]
    seconds = [probe.material_event(f"second {n}") for n in range(BATCH - 1)]  # never a full batch
    with bus.connection() as conn:
        bus.declare(conn.default_channel)
        publisher = Publisher(bus, conn)
        for queue, events in ((second, seconds), (first, firsts)):
            for event in events:
                publisher.publish(Outgoing(message_id=event.id, exchange="", routing_key=queue, body=event.to_json()))
    handler = Recording()
    handlers = {"record_material": handler.record_material, "record_copy": handler.record_material}
    dying = DiesAfterAnAckWhileAnotherQueueWaits(
        bus, db, probe.tables, "probe", handlers, prefetch=4 * BATCH, batch_size=BATCH
    )
    thread = threading.Thread(target=run_until_it_dies, args=(dying,), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and dying.waiting_in_second_queue > 0  # it died while the second queue's waited
    dying.dead_connection.collect()  # the broker sees the process gone: what it had not acked goes back
    with probe.Running(EventConsumer(bus, db, probe.tables, "probe", handlers, prefetch=4 * BATCH, batch_size=BATCH)):
        wait_until(
            lambda: len(probe.effects(db)) == len(firsts) + len(seconds), timeout=30, message="every event's effect"
        )
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in [*firsts, *seconds])
