"""One plan from a completion event delivered twice through real RabbitMQ (and the embedded broker)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.coaching.handlers import HANDLERS
from services.coaching.models import Plan, platform
from shared.envelope import make_event
from shared.messaging.bus import Outgoing, Publisher
from shared.messaging.consumer import EventConsumer
from shared.messaging.topology import SUBSCRIPTIONS
from shared.testing import wait_until
from tests.coaching.conftest import completion
from tests.shared.probe import Running

PAIRS = [
    pytest.param("postgres", "rabbitmq", id="postgres+rabbitmq"),
    pytest.param("sqlite", "filesystem", id="sqlite+filesystem"),
]


def count(ctx, table) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_every_coaching_handler_has_its_subscription():
    assert {s.handler for s in SUBSCRIPTIONS if s.consumer == "coaching"} == set(HANDLERS)


@pytest.mark.parametrize("database,broker", PAIRS, indirect=True)
def test_a_completion_delivered_twice_opens_one_plan(coaching_ctx, broker):
    event = make_event(
        "scheduling.participant.completed",
        source="/services/scheduling",
        subject="registration",
        tenant="CA",
        data=completion("trainer-ca-7"),
    )
    # The same completion once more under a new event id: what a re-emission after a crash looks like.
    reissued = make_event(event.type, source=event.source, subject=event.subject, tenant=event.tenant, data=event.data)
    bus = coaching_ctx.extra["bus"]
    consumer = EventConsumer(bus, coaching_ctx.db, coaching_ctx.tables, "coaching", HANDLERS, prefetch=10)
    with Running(consumer):
        wait_until(consumer.ready.is_set, message="coaching's consumer to be ready")
        with bus.connection() as conn:
            bus.declare(conn.default_channel)
            publisher = Publisher(bus, conn)
            for message_id, body in (("first", event), ("redelivery", event), ("reissued", reissued)):
                publisher.publish(
                    Outgoing(
                        message_id=message_id,
                        exchange=bus.topology.exchange,
                        routing_key=body.type,
                        body=json.dumps(body.to_dict()),
                    )
                )
        wait_until(lambda: count(coaching_ctx, platform.inbox) == 2, message="both event ids to be handled")
    assert count(coaching_ctx, Plan) == 1
    with coaching_ctx.db.session() as session:
        plan = session.scalars(select(Plan)).one()
        created = list(
            session.scalars(select(platform.outbox.body).where(platform.outbox.event_type == "coaching.plan.created"))
        )
    assert (plan.trainer, plan.tenant) == ("trainer-ca-7", "CA")
    [body] = created
    assert json.loads(body)["data"]["plan_id"] == plan.id
