"""The messaging spine under faults, on the real broker: bursts of failures, killed consumers, stalls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pika
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shared.messaging.bus import Bus, Outgoing, Publisher
from shared.messaging.consumer import EventConsumer
from shared.messaging.outbox import OutboxRelay, add_event
from shared.messaging.topology import Topology
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT
from shared.testing import wait_until
from tests.helpers import TcpProxy, pika_params
from tests.shared import probe
from tests.shared.test_messaging import db, dead_letters, outbox_status  # noqa: F401 (db is a fixture)

RABBITMQ = [
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq", marks=[pytest.mark.postgres, pytest.mark.rabbitmq])
]


def queue_counts(namespace: str) -> dict[str, tuple[int, int]]:
    """{queue: (ready, unacknowledged)} for the test's queues, as the broker itself reports them."""
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "messages_ready", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(namespace):
            counts[parts[0]] = (int(parts[1]), int(parts[2]))
    return counts


class CountingConsumer(EventConsumer):
    """The probe's consumer, counting the broker connections it had to open."""

    sessions = 0

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.sessions += 1
        super().on_consume_ready(connection, channel, consumers, **kwargs)


class Flaky(probe.Probe):
    """Fails each 'flaky' event once, and every 'poison' event always."""

    def __init__(self):
        super().__init__()
        self.failed: set[str] = set()
        self.poison_calls = 0

    def record_material(self, event, uow) -> None:
        title = event.data["title"]
        if title.startswith("flaky") and event.id not in self.failed:
            self.failed.add(event.id)
            raise RuntimeError("flaky once")
        if title.startswith("poison"):
            self.poison_calls += 1
            raise RuntimeError("poison for ever")
        super().record_material(event, uow)


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
def test_a_burst_of_failures_is_retried_and_dead_lettered_without_stalling(db, broker):
    """60 failing messages at prefetch 20: every retry and dead letter is confirmed, none re-entrantly."""
    bus = probe.make_bus(broker, retry_delays=(0.1,))
    handler = Flaky()
    flaky = [probe.material_event(f"flaky {n}") for n in range(30)]
    poison = [probe.material_event(f"poison {n}") for n in range(30)]
    consumer = CountingConsumer(
        bus, db, probe.tables, "probe", {"record_material": handler.record_material}, prefetch=20
    )
    with probe.Running(consumer):
        wait_until(consumer.ready.is_set, message="consumer ready")
        with bus.connection() as conn:
            publisher = Publisher(bus, conn)
            for event in [e for pair in zip(flaky, poison, strict=False) for e in pair]:
                publisher.publish(Outgoing(event.id, bus.topology.exchange, probe.EVENT_TYPE, event.to_json()))
        wait_until(
            lambda: len(dead_letters(db)) == len(poison) and len(probe.effects(db)) == len(flaky),
            timeout=30,
            message="every flaky event handled and every poison event filed",
        )
        wait_until(
            lambda: all(counts == (0, 0) for counts in queue_counts(broker["namespace"]).values()),
            timeout=10,
            message="no message left ready or unacknowledged on any queue",
        )
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in flaky)
    assert sorted(letter.event_id for letter in dead_letters(db)) == sorted(e.id for e in poison)
    assert handler.poison_calls == 2 * len(poison)  # the first try and the one retry, no more
    assert consumer.sessions == 1, "the consumer lost its broker connection"


def start_consumer_process(settings: dict, log_file) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.shared.crashing_consumer", json.dumps(settings)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
@pytest.mark.parametrize(
    "mode,delivery_limit,crash_limit,reason",
    [
        # The poison's own count (3 deaths after its first delivery) catches it before the broker's limit.
        pytest.param("hang", 5, 3, "the consumer stopped 3 times", id="hangs-killed-default-limits"),
        # A delivery limit the neighbours reach with the poison: the broker dead-letters them all, and
        # the consumer must tell which one to file and which to re-drive.
        pytest.param("crash", 2, 2, "broker dead-lettered (delivery_limit)", id="crashes-broker-limit-first"),
    ],
)
def test_a_consumer_killed_by_one_event_dead_letters_only_that_event(
    db, broker, tmp_path, mode, delivery_limit, crash_limit, reason
):
    """A poison event kills its consumer again and again: its prefetched neighbours are handled once."""
    marks = tmp_path / "marks"
    marks.mkdir()
    settings = {
        "database_url": db.engine.url.render_as_string(hide_password=False),
        "schema": db.schema,
        "broker_url": broker["url"],
        "namespace": broker["namespace"],
        "marks": str(marks),
        "mode": mode,
        "delivery_limit": delivery_limit,
        "crash_limit": crash_limit,
    }
    bus = Bus(
        broker["url"],
        Topology(
            subscriptions=(probe.SUBSCRIPTION,),
            namespace=broker["namespace"],
            retry_delays=(0.2, 0.4),
            delivery_limit=delivery_limit,
            crash_limit=crash_limit,
        ),
    )
    poison = probe.material_event("poison")
    innocents = [probe.material_event(f"innocent {n}") for n in range(5)]
    with bus.connection() as conn:
        bus.declare(conn.default_channel)
        publisher = Publisher(bus, conn)
        for event in [poison, *innocents]:
            publisher.publish(Outgoing(event.id, bus.topology.exchange, probe.EVENT_TYPE, event.to_json()))

    def poison_filed() -> bool:
        return poison.id in [letter.event_id for letter in dead_letters(db)]

    def settled() -> bool:
        return len(probe.effects(db)) == len(innocents) or len(dead_letters(db)) > 1

    with open(tmp_path / "consumer.log", "wb") as log_file:
        for _ in range(8):  # each round, a new consumer process that the poison event kills
            started = len(list(marks.iterdir()))
            process = start_consumer_process(settings, log_file)
            try:
                wait_until(
                    lambda: poison_filed() or len(list(marks.iterdir())) > started or process.poll() is not None,
                    timeout=20,
                    message="the consumer to run the poison",
                )
                if poison_filed():
                    wait_until(settled, timeout=15, message="the innocent events handled or filed")
                    wait_until(
                        lambda: all(c == (0, 0) for c in queue_counts(broker["namespace"]).values()),
                        timeout=10,
                        message="every message acknowledged",
                    )
                    break
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
    assert [letter.event_id for letter in dead_letters(db)] == [poison.id]
    assert sorted(e.event_id for e in probe.effects(db)) == sorted(e.id for e in innocents)  # once each
    [letter] = dead_letters(db)
    assert letter.status == "dead" and letter.reason.startswith(reason), letter.reason
    if mode == "crash":
        assert "re-driving" in (tmp_path / "consumer.log").read_text()
    with db.session() as session:
        assert session.scalars(select(probe.tables.unfinished_run)).all() == []


def rows_lockable(db, message_ids: list[str]) -> bool:
    """Whether another transaction can lock these outbox rows at once (FOR UPDATE NOWAIT)."""
    Outbox = probe.tables.outbox
    try:
        with db.unit_of_work() as uow:
            uow.session.scalars(
                select(Outbox.id).where(Outbox.message_id.in_(message_ids)).with_for_update(nowait=True)
            ).all()
            uow.rollback()
        return True
    except OperationalError:
        return False


def drain(broker, queue: str) -> list[str]:
    """Every message id waiting on ``queue``, taken off it with pika."""
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    try:
        channel, ids = connection.channel(), []
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            ids.append(json.loads(got[2])["id"])
        return ids
    finally:
        connection.close()


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
def test_the_relay_lets_go_of_its_rows_while_the_broker_is_black_holed(db, broker):
    """A broker that swallows everything: the batch's rows are unlocked within the bound, and are
    published exactly once when it answers again."""
    publish_timeout, batch_deadline = 1.0, 1.0
    bound = publish_timeout + batch_deadline + 1.0  # the last publish may start just before the deadline
    proxy = TcpProxy("127.0.0.1", int(broker["url"].rsplit(":", 1)[1].split("/")[0]))
    try:
        bus = Bus(
            proxy.url(),
            Topology(subscriptions=(probe.SUBSCRIPTION,), namespace=broker["namespace"]),
            connect_timeout=1.0,
            publish_timeout=publish_timeout,
        )
        relay = OutboxRelay(
            db, probe.tables, bus, batch_size=50, poll_interval=0.02, max_backoff=0.5, batch_deadline=batch_deadline
        )
        before = probe.material_event("Before the black hole")
        with probe.Running(relay):
            probe.stage(db, before)
            wait_until(lambda: outbox_status(db, before.id) == OUTBOX_SENT, message="the relay at work")
            proxy.blackhole()
            during = [probe.material_event(f"During the black hole {n}") for n in range(5)]
            ids = [e.id for e in during]
            with db.unit_of_work() as uow:
                for event in during:
                    add_event(uow.session, probe.tables, event)
                uow.commit()
            wait_until(lambda: not rows_lockable(db, ids), timeout=5, message="the relay to take the rows")
            taken = time.monotonic()
            wait_until(lambda: rows_lockable(db, ids), timeout=bound + 5, message="the rows unlocked")
            held = time.monotonic() - taken
            assert held < bound, f"rows locked for {held:.1f}s"
            for _ in range(5):  # and the relay does not take them again while the broker is away
                time.sleep(0.3)
                assert rows_lockable(db, ids)
            assert {outbox_status(db, i) for i in ids} == {OUTBOX_PENDING}
            proxy.restore()
            wait_until(
                lambda: {outbox_status(db, i) for i in ids} == {OUTBOX_SENT},
                timeout=20,
                message="the rows sent once the broker answers again",
            )
    finally:
        proxy.close()
    assert sorted(drain(broker, bus.topology.work_queue(probe.SUBSCRIPTION))) == sorted([before.id, *ids])


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
def test_a_handler_that_outlasts_the_heartbeat_keeps_its_connection(db, broker):
    """A handler running several heartbeat intervals: the broker keeps the connection (no reconnect,
    no redelivery), because heartbeats go on while it runs."""
    topology = Topology(subscriptions=(probe.SUBSCRIPTION,), namespace=broker["namespace"], retry_delays=(0.2,))
    bus = Bus(broker["url"], topology, folder="", connect_timeout=2, heartbeat=2)

    class Slow(probe.Probe):
        def record_material(self, event, uow) -> None:
            time.sleep(7)  # more than two 2 s heartbeat intervals
            super().record_material(event, uow)

    handler = Slow()
    consumer = probe.consumer(db, bus, handler)
    connected = []
    on_consume_ready = consumer.on_consume_ready
    consumer.on_consume_ready = lambda *a, **kw: (connected.append(1), on_consume_ready(*a, **kw))
    event = probe.material_event("A long handler")
    with probe.Running(consumer):
        wait_until(consumer.ready.is_set, message="consumer ready")
        with bus.connection() as conn:
            Publisher(bus, conn).publish(
                Outgoing(
                    message_id=event.id,
                    exchange=bus.topology.exchange,
                    routing_key=probe.EVENT_TYPE,
                    body=event.to_json(),
                )
            )
        wait_until(lambda: probe.effects(db, event.id), timeout=30, message="the slow event's effect")
        work = bus.topology.work_queue(probe.SUBSCRIPTION)
        wait_until(
            lambda: queue_counts(broker["namespace"]).get(work) == (0, 0),
            timeout=15,
            message="the message acknowledged",
        )
    assert connected == [1]
    assert handler.calls == 1


@pytest.mark.parametrize("database,broker", RABBITMQ, indirect=True)
@pytest.mark.parametrize("batch_size", [1, 5], ids=["one-by-one", "batches"])
def test_events_that_arrive_while_the_database_is_away_wait_for_it_and_are_handled_once(db, broker, batch_size):
    """A database outage longer than all the retry delays together: its events are not the events'
    fault, so none is dead-lettered; each is handled once when the database answers again."""
    from sqlalchemy.engine import make_url

    from shared.db import Database

    url = make_url(db.engine.url.render_as_string(hide_password=False))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = Database(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), schema=db.schema
    )
    bus = probe.make_bus(broker, retry_delays=(0.1, 0.1))
    handler = probe.Probe()
    consumer = probe.consumer(through_proxy, bus, handler, batch_size=batch_size)
    first = probe.material_event("Before the outage")
    during = [probe.material_event(f"During the outage {n}") for n in range(8)]
    try:
        with probe.Running(consumer):
            wait_until(consumer.ready.is_set, message="consumer ready")
            with bus.connection() as conn:
                publisher = Publisher(bus, conn)
                publisher.publish(Outgoing(first.id, bus.topology.exchange, probe.EVENT_TYPE, first.to_json()))
                wait_until(lambda: probe.effects(db, first.id), message="the consumer at work")
                proxy.cut()
                for event in during:
                    publisher.publish(Outgoing(event.id, bus.topology.exchange, probe.EVENT_TYPE, event.to_json()))
            time.sleep(3)  # fifteen times the retry delays together
            dead = bus.topology.dead_queue(probe.SUBSCRIPTION)
            assert queue_counts(broker["namespace"]).get(dead, (0, 0)) == (0, 0), (
                "dead-lettered while the database was away"
            )
            proxy.restore()
            wait_until(
                lambda: len(probe.effects(db)) == 1 + len(during),
                timeout=30,
                message="every event handled once the database answers",
            )
            work = bus.topology.work_queue(probe.SUBSCRIPTION)
            wait_until(
                lambda: queue_counts(broker["namespace"]).get(work) == (0, 0),
                timeout=15,
                message="every message acknowledged",
            )
    finally:
        proxy.close()
        through_proxy.dispose()
    assert sorted(e.event_id for e in probe.effects(db)) == sorted([first.id, *(e.id for e in during)])
    assert dead_letters(db) == []
    assert queue_counts(broker["namespace"]).get(bus.topology.dead_queue(probe.SUBSCRIPTION), (0, 0)) == (0, 0)
