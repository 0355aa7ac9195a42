"""The messaging spine end to end: outbox through broker outages, idempotent consumers, dead letters."""

from __future__ import annotations

import json
import subprocess
import sys

import pika
import pytest
from sqlalchemy import select

from shared.auth import verifier_from_config
from shared.config import CommonConfig
from shared.context import ServiceContext
from shared.http.api import create_service_app
from shared.messaging.bus import Outgoing, Publisher
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_UNROUTABLE
from shared.testing import AUDIENCE, ISSUER, wait_until
from tests.helpers import TcpProxy, pika_params
from tests.shared import probe

# (database, broker): the embedded default and the production pair.
PAIRS = [
    pytest.param("sqlite", "filesystem", id="sqlite+filesystem"),
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq"),
]


@pytest.fixture
def db(database):
    db = probe.make_db(database)
    yield db
    db.dispose()


def publish_raw(bus, body: str, message_id: str = "m") -> None:
    """Put a message on the subscription's work queue as the broker would deliver it."""
    with bus.connection() as conn:
        bus.declare(conn.default_channel)
        Publisher(bus, conn).publish(
            Outgoing(message_id=message_id, exchange=bus.topology.exchange, routing_key=probe.EVENT_TYPE, body=body)
        )


def outbox_status(db, message_id: str) -> str:
    with db.session() as session:
        return session.scalars(
            select(probe.tables.outbox.status).where(probe.tables.outbox.message_id == message_id)
        ).one()


def dead_letters(db) -> list:
    with db.session() as session:
        return list(session.scalars(select(probe.tables.dead_letter)))


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_outbox_event_reaches_the_consumer_once(db, broker):
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    event = probe.material_event("Primary caregiving slides")
    probe.stage(db, event)
    with probe.Running(probe.consumer(db, bus, handler)) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        with probe.Running(probe.relay(db, bus)):
            wait_until(lambda: probe.effects(db, event.id), message="the handled event's effect")
    assert outbox_status(db, event.id) == OUTBOX_SENT
    assert [e.title for e in probe.effects(db)] == ["Primary caregiving slides"]


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_redelivered_event_has_no_second_effect(db, broker):
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    event, sentinel = probe.material_event("Once only"), probe.material_event("Sentinel")
    with probe.Running(probe.consumer(db, bus, handler)) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        publish_raw(bus, event.to_json(), "first")
        publish_raw(bus, event.to_json(), "redelivery")
        publish_raw(bus, sentinel.to_json(), "sentinel")
        # One consumer thread handles in order: once the sentinel is done, so is the duplicate.
        wait_until(lambda: probe.effects(db, sentinel.id), message="the sentinel's effect")
    assert len(probe.effects(db, event.id)) == 1
    assert handler.calls == 2  # the duplicate never reached the handler
    with db.session() as session:
        assert session.get(probe.tables.inbox, (bus.topology.work_queue(probe.SUBSCRIPTION), event.id))


def dead_queue_depth(bus, broker) -> int:
    name = bus.topology.dead_queue(probe.SUBSCRIPTION)
    if broker["kind"] == "rabbitmq":
        connection = pika.BlockingConnection(pika_params(broker["url"]))
        try:
            return connection.channel().queue_declare(name, passive=True).method.message_count
        finally:
            connection.close()
    with bus.connection() as conn:
        return bus.dead_queue(probe.SUBSCRIPTION)(conn.default_channel).queue_declare(passive=True).message_count


def probe_app(db, broker, signing_key_file):
    values = CommonConfig.common_from_env("probe")
    values.update(
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_jwks_url="",
        jwt_public_key_file="",
        jwt_dev_private_key_file=signing_key_file,
        log_level="WARNING",
    )
    config = CommonConfig(**values)
    from shared.http import dead_letters as dead_letters_api

    app, api = create_service_app(
        ServiceContext(config=config, db=db, tables=probe.tables, verifier=verifier_from_config(config)),
        title="probe",
        version="1",
        description="probe",
    )
    api.register_blueprint(dead_letters_api.blp)
    return app.test_client()


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_poison_event_is_retried_dead_lettered_and_replayed(db, broker, tokens, signing_key_file):
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    poison = probe.material_event("poison")
    with probe.Running(probe.consumer(db, bus, handler, collect_dead_letters=False)) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        publish_raw(bus, poison.to_json(), "poison")
        wait_until(lambda: dead_queue_depth(bus, broker) == 1, message="the poison event in the dead-letter queue")
    assert handler.calls == 1 + len(bus.topology.retry_delays)
    assert probe.effects(db) == []

    api = probe_app(db, broker, signing_key_file)
    admin = tokens.headers("national_admin", "US")
    with probe.Running(probe.consumer(db, bus, handler)) as consumer:
        wait_until(lambda: dead_letters(db), message="the dead letter filed in the database")
        listed = api.get("/dead-letters", headers=admin)
        assert listed.status_code == 200
        [letter] = listed.json["items"]
        assert letter["event_id"] == poison.id and letter["event_type"] == probe.EVENT_TYPE
        assert "RuntimeError" in letter["reason"] and letter["attempts"] == 3
        assert api.get("/dead-letters", headers=tokens.headers("jurisdiction_admin", "CA")).status_code == 403

        handler.healed = True  # the cause is fixed; replay it
        replay = api.post(f"/dead-letters/{letter['id']}/replay", headers=admin)
        assert replay.status_code == 202 and replay.json["status"] == "replayed"
        assert api.post(f"/dead-letters/{letter['id']}/replay", headers=admin).status_code == 409
        with probe.Running(probe.relay(db, bus)):
            wait_until(lambda: probe.effects(db, poison.id), message="the replayed event's effect")
    assert len(probe.effects(db, poison.id)) == 1


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_invalid_events_go_straight_to_dead_letters(db, broker):
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    unknown = json.loads(probe.material_event().to_json())
    unknown["type"] = "content.material.exploded"
    bad_data = json.loads(probe.material_event().to_json())
    bad_data["data"]["version"] = "one"
    with probe.Running(probe.consumer(db, bus, handler)) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        publish_raw(bus, "{not json", "garbage")
        publish_raw(bus, json.dumps(unknown), "unknown")
        publish_raw(bus, json.dumps(bad_data), "bad-data")
        wait_until(lambda: len(dead_letters(db)) == 3, message="three dead letters")
    reasons = sorted(letter.reason for letter in dead_letters(db))
    assert all(r.startswith("invalid event") for r in reasons)
    assert any("content.material.exploded" in r for r in reasons)
    assert any("version" in r for r in reasons)
    assert handler.calls == 0


@pytest.mark.parametrize("database,broker", [PAIRS[1]], indirect=True)
def test_outbox_keeps_events_while_the_broker_is_away(db, broker):
    """Broker unreachable at commit time: the write commits, and the event goes out once it is back."""
    proxy = TcpProxy("127.0.0.1", int(broker["url"].rsplit(":", 1)[1].split("/")[0]))
    try:
        bus = probe.make_bus(broker, url=proxy.url())
        with bus.connection() as conn:  # queues exist before the outage, as in production
            bus.declare(conn.default_channel)
        proxy.cut()
        event = probe.material_event("Written during the outage")
        probe.stage(db, event)  # the service's own transaction does not need the broker
        with probe.Running(probe.relay(db, bus)):
            with pytest.raises(AssertionError):
                wait_until(lambda: outbox_status(db, event.id) == OUTBOX_SENT, timeout=1.5)
            assert outbox_status(db, event.id) == OUTBOX_PENDING
            proxy.restore()
            wait_until(
                lambda: outbox_status(db, event.id) == OUTBOX_SENT,
                timeout=20,
                message="the relay to publish after the broker came back",
            )
    finally:
        proxy.close()
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    try:
        method, properties, body = connection.channel().basic_get(
            bus.topology.work_queue(probe.SUBSCRIPTION), auto_ack=True
        )
    finally:
        connection.close()
    assert method is not None, "the event never reached the consumer's queue"
    assert json.loads(body)["id"] == event.id
    assert properties.content_type == "application/cloudevents+json" and properties.delivery_mode == 2


@pytest.mark.parametrize("database,broker", [PAIRS[1]], indirect=True)
def test_event_nobody_subscribes_to_is_marked_unroutable(db, broker):
    from shared.envelope import make_event

    bus = probe.make_bus(broker)
    event = make_event(
        "content.adaptation.reviewed",
        source="/tests",
        subject="a1",
        tenant="CA",
        data={
            "adaptation_id": "a1",
            "module_id": "m1",
            "facilitator": "f",
            "reviewer": "r",
            "revision": 1,
            "decision": "approved",
        },
    )
    probe.stage(db, event)
    with probe.Running(probe.relay(db, bus)):
        wait_until(lambda: outbox_status(db, event.id) == OUTBOX_UNROUTABLE, message="unroutable mark")


@pytest.mark.parametrize("database,broker", [PAIRS[0]], indirect=True)
def test_filesystem_broker_carries_events_between_processes(db, broker):
    """The embedded default's transport must route a topic publish made by another process."""
    bus = probe.make_bus(broker)
    handler = probe.Probe()
    event = probe.material_event("From another process")
    script = (
        "import sys; from shared.messaging.bus import Bus, Outgoing, Publisher;"
        "from shared.messaging.topology import Topology;"
        "bus = Bus('filesystem://', Topology(subscriptions=()), folder=sys.argv[1]);"
        "conn = bus.connection(); bus.declare(conn.default_channel);"
        "Publisher(bus, conn).publish(Outgoing('x', bus.topology.exchange, sys.argv[2], sys.stdin.read()))"
    )
    with probe.Running(probe.consumer(db, bus, handler)) as consumer:
        wait_until(consumer.ready.is_set, message="consumer ready")
        subprocess.run(
            [sys.executable, "-c", script, broker["folder"], probe.EVENT_TYPE],
            input=event.to_json(),
            text=True,
            check=True,
            timeout=60,
        )
        wait_until(lambda: probe.effects(db, event.id), message="the event from the other process")
