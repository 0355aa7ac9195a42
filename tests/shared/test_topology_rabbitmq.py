"""The topology kombu declares, checked on the real broker with pika, an independent AMQP client."""

from __future__ import annotations

import json
import time

import pika
import pika.exceptions
import pytest

from shared.messaging.bus import Bus
from shared.messaging.topology import SUBSCRIPTIONS, Subscription, Topology
from shared.testing import wait_until
from tests.helpers import pika_params

pytestmark = pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)

SUB = Subscription("scheduling", "attach_material_version", ("content.material.published",))


@pytest.fixture
def declared(broker):
    topology = Topology(subscriptions=(SUB,), namespace=broker["namespace"], retry_delays=(0.3, 2.0), delivery_limit=4)
    bus = Bus(broker["url"], topology)
    with bus.connection() as conn:
        bus.declare(conn.default_channel)
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    yield broker["namespace"], connection
    if connection.is_open:
        connection.close()


def redeclare(connection, name: str, arguments: dict) -> pika.frame.Method:
    """Declaring an existing queue with other arguments fails (PRECONDITION_FAILED): an exact check."""
    return connection.channel().queue_declare(name, durable=True, arguments=arguments)


def test_exchanges_are_durable_topic_and_direct(declared):
    ns, connection = declared
    channel = connection.channel()
    channel.exchange_declare(f"{ns}events", exchange_type="topic", durable=True, passive=False)
    channel.exchange_declare(f"{ns}events.dlx", exchange_type="direct", durable=True, passive=False)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        connection.channel().exchange_declare(f"{ns}events", exchange_type="fanout", durable=True)


def test_work_retry_and_dead_queues_have_the_reliability_arguments(declared):
    ns, connection = declared
    work = f"{ns}scheduling.attach_material_version"
    redeclare(
        connection,
        work,
        {
            "x-queue-type": "quorum",
            "x-delivery-limit": 4,
            "x-dead-letter-exchange": f"{ns}events.dlx",
            "x-dead-letter-routing-key": f"{work}.dead",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    for level, ttl in ((1, 300), (2, 2000)):
        redeclare(
            connection,
            f"{work}.retry.{level}",
            {
                "x-queue-type": "quorum",
                "x-message-ttl": ttl,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": work,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
    redeclare(connection, f"{work}.dead", {"x-queue-type": "quorum"})
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        redeclare(connection, work, {"x-queue-type": "classic"})


def basic_get(connection, queue: str):
    return connection.channel().basic_get(queue, auto_ack=True)


def test_bindings_route_events_retries_and_dead_letters(declared):
    ns, connection = declared
    work = f"{ns}scheduling.attach_material_version"
    channel = connection.channel()
    channel.confirm_delivery()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/cloudevents+json")

    # The event type binds the work queue to the topic exchange; another type reaches nobody.
    channel.basic_publish(f"{ns}events", "content.material.published", b'{"n": 1}', props, mandatory=True)
    assert basic_get(connection, work)[2] == b'{"n": 1}'
    with pytest.raises(pika.exceptions.UnroutableError):
        channel.basic_publish(f"{ns}events", "content.adaptation.reviewed", b"{}", props, mandatory=True)

    # The dead-letter exchange routes to the dead queue.
    channel.basic_publish(f"{ns}events.dlx", f"{work}.dead", b'{"n": 2}', props, mandatory=True)
    assert basic_get(connection, f"{work}.dead")[2] == b'{"n": 2}'

    # A retry waits out its TTL, then the broker dead-letters it back to the work queue.
    sent = time.monotonic()
    channel.basic_publish("", f"{work}.retry.1", b'{"n": 3}', props, mandatory=True)
    method, _, body = wait_until(
        lambda: _peek(connection, work), timeout=10, message="the retried message back on the work queue"
    )
    assert body == b'{"n": 3}' and time.monotonic() - sent >= 0.25


def _peek(connection, queue):
    got = basic_get(connection, queue)
    return got if got[0] is not None else None


def test_delivery_limit_dead_letters_a_message_nobody_can_ack(declared):
    """A handler that kills its process never reaches our retry code: the broker's limit does it."""
    ns, connection = declared
    work = f"{ns}scheduling.attach_material_version"
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        f"{ns}events",
        "content.material.published",
        json.dumps({"crash": True}).encode(),
        pika.BasicProperties(delivery_mode=2),
        mandatory=True,
    )
    for _ in range(6):
        method, _, _ = channel.basic_get(work, auto_ack=False)
        if method is None:
            break
        channel.basic_nack(method.delivery_tag, requeue=True)
    dead = wait_until(lambda: _peek(connection, f"{work}.dead"), timeout=10, message="the broker's dead letter")
    assert json.loads(dead[2]) == {"crash": True}
    assert dead[1].headers["x-death"][0]["reason"] == "delivery_limit"


def test_platform_topology_declares_on_the_broker(broker):
    """The production topology (every subscription of the platform) declares cleanly."""
    bus = Bus(broker["url"], Topology(subscriptions=SUBSCRIPTIONS, namespace=broker["namespace"]))
    with bus.connection() as conn:
        bus.declare(conn.default_channel)
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    try:
        connection.channel().exchange_declare(
            f"{broker['namespace']}events", exchange_type="topic", durable=True, passive=True
        )
        for sub in SUBSCRIPTIONS:
            connection.channel().queue_declare(f"{broker['namespace']}{sub.queue}", passive=True)
    finally:
        connection.close()
