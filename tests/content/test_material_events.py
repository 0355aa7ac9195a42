"""Publishing a material while the broker is away: the API answers, and the event goes out once it is back."""

from __future__ import annotations

import dataclasses
import json

import pika
import pytest
from sqlalchemy import select

from services.content.app import create_app
from services.content.bootstrap import build_context
from services.content.models import platform
from shared.messaging.outbox import OutboxRelay
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT
from shared.testing import pika_params, wait_until
from tests.content.test_materials import PDF, create_material, national_module_id, publish, upload
from tests.helpers import TcpProxy
from tests.shared.probe import Running


def outbox_rows(ctx):
    with ctx.db.session() as session:
        return list(
            session.scalars(select(platform.outbox).where(platform.outbox.event_type == "content.material.published"))
        )


@pytest.mark.parametrize("database,broker", [("postgres", "rabbitmq")], indirect=True)
def test_publishing_during_a_broker_outage_delivers_the_event_afterwards(content_ctx, broker, tokens):
    namespace = broker["namespace"]
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    channel = connection.channel()
    # A subscriber exists before the outage (as scheduling's queue will in production).
    channel.exchange_declare(f"{namespace}events", exchange_type="topic", durable=True)
    channel.queue_declare(f"{namespace}listener", durable=True)
    channel.queue_bind(f"{namespace}listener", f"{namespace}events", routing_key="content.material.published")

    port = int(broker["url"].rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy("127.0.0.1", port)
    ctx = build_context(dataclasses.replace(content_ctx.config, broker_url=proxy.url()))
    client = create_app(ctx).test_client()
    admin = tokens.headers("national_admin", "US")
    try:
        proxy.cut()
        material = create_material(client, admin, national_module_id(client, tokens, 3))
        assert upload(client, admin, material["id"], PDF).status_code == 201
        published = publish(client, {**admin, "X-Correlation-ID": "outage-test-1"}, material["id"])
        assert published.status_code == 200, published.json  # the API does not need the broker
        assert client.get("/readyz").json["status"] == "degraded"  # …and says the broker is away
        [row] = outbox_rows(ctx)
        assert row.status == OUTBOX_PENDING

        relay = OutboxRelay(ctx.db, ctx.tables, ctx.extra["bus"], poll_interval=0.02, max_backoff=0.5)
        with Running(relay):
            with pytest.raises(AssertionError):
                wait_until(lambda: outbox_rows(ctx)[0].status == OUTBOX_SENT, timeout=1.5)
            proxy.restore()
            wait_until(
                lambda: outbox_rows(ctx)[0].status == OUTBOX_SENT,
                timeout=20,
                message="the event to be relayed once the broker is back",
            )
    finally:
        proxy.close()
        ctx.db.dispose()

    method, properties, body = channel.basic_get(f"{namespace}listener", auto_ack=True)
    connection.close()
    assert method is not None
    event = json.loads(body)
    assert event["type"] == "content.material.published" and event["subject"] == material["id"]
    assert event["data"]["version"] == 1 and event["data"]["module_position"] == 3
    assert event["correlationid"] == "outage-test-1"  # from the HTTP request into the envelope
    assert event["tenant"] == "national" and properties.message_id == event["id"]
