"""The communities' events reach the real broker once each, with the contract's payloads, through the outbox relay."""

from __future__ import annotations

import json
from collections import Counter

import pika
import pytest
from sqlalchemy import select

from services.content.models import platform
from shared.envelope import parse_event
from shared.messaging.outbox import OutboxRelay
from shared.tables import OUTBOX_SENT
from shared.testing import pika_params, wait_until
from tests.content.communities import STAFF, build_story, ok
from tests.helpers import auth
from tests.shared.probe import Running


def all_sent(ctx) -> bool:
    with ctx.db.session() as session:
        return all(row.status == OUTBOX_SENT for row in session.scalars(select(platform.outbox)))


@pytest.mark.parametrize("database,broker", [("postgres", "rabbitmq")], indirect=True)
def test_each_change_of_a_community_is_published_once(client, content_ctx, broker, tokens):
    namespace = broker["namespace"]
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    channel = connection.channel()
    channel.exchange_declare(f"{namespace}events", exchange_type="topic", durable=True)
    channel.queue_declare(f"{namespace}listener", durable=True)
    for key in ("content.community.#", "content.thread.#", "content.synthesis.#"):
        channel.queue_bind(f"{namespace}listener", f"{namespace}events", routing_key=key)

    story = build_story(client, tokens, content_ctx)
    ok(client.post(f"/communities/{story.id}/syntheses/{story.synthesis['id']}/publish", headers=auth(tokens, STAFF)))
    relay = OutboxRelay(
        content_ctx.db, content_ctx.tables, content_ctx.extra["bus"], poll_interval=0.02, max_backoff=0.5
    )
    with Running(relay):
        wait_until(lambda: all_sent(content_ctx), timeout=30, message="every community event to be relayed")

    received = []
    while True:
        method, properties, body = channel.basic_get(f"{namespace}listener", auto_ack=True)
        if method is None:
            break
        received.append((properties, json.loads(body)))
    connection.close()
    counts = Counter(event["type"] for _, event in received)
    assert counts == {
        "content.community.convened": 1,
        "content.community.member_joined": 6,  # the facilitator, four team members, the guest expert
        "content.thread.replied": 1,
        "content.synthesis.published": 1,
    }
    assert len({event["id"] for _, event in received}) == len(received)
    for properties, event in received:
        assert properties.message_id == event["id"]
        parsed = parse_event(json.dumps(event))  # valid by the catalogue, as a consumer reads it
        assert parsed.tenant == "national"
    replied = next(event for _, event in received if event["type"] == "content.thread.replied")
    assert replied["data"]["followers"] == ["ca-ana"] and replied["data"]["reply_id"] == story.reply["id"]
