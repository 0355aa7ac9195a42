"""On RabbitMQ, a notifications consumer killed in the middle of a batch loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict

import pytest
from sqlalchemy import func, select

from services.notifications.models import Delivery
from shared.messaging.bus import Outgoing, Publisher
from shared.testing import wait_until
from tests.notifications.conftest import registration_event

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]
EVENTS = 150


def count(ctx, what) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(what))


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_a_consumer_killed_mid_batch_loses_and_duplicates_nothing(
    notifications_ctx, broker, database, deliver, smtp_server
):
    ctx = notifications_ctx
    bus = ctx.extra["bus"]
    events = [registration_event("waitlisted", f"p{n:03d}", f"p{n:03d}@example.org") for n in range(EVENTS)]
    with bus.connection(publishing=True) as conn:
        bus.declare(conn.default_channel)
        publisher = Publisher(bus, conn)
        for event in events:
            publisher.publish(Outgoing(event.id, bus.topology.exchange, event.type, event.to_json()))

    settings = {
        k: v for k, v in asdict(ctx.config).items() if not k.startswith("jwt_") or k == "jwt_dev_private_key_file"
    }
    settings.update(
        jwt_issuer=ctx.config.jwt_issuer,
        jwt_audience=ctx.config.jwt_audience,
        jwt_jwks_url="",
        jwt_public_key_file="",
    )
    for key in ("jwt_algorithms", "jwt_role_map", "jwt_tenant_map", "reminder_minutes"):
        settings.pop(key, None)
    command = [sys.executable, "-m", "tests.notifications.consumer_process", json.dumps(settings)]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    first = subprocess.Popen(command, env=env)
    try:
        Inbox = ctx.tables.inbox
        wait_until(lambda: count(ctx, Inbox) >= 30, timeout=60, message="the first consumer to handle some events")
        first.send_signal(signal.SIGKILL)  # mid-batch: prefetched messages unacknowledged, one perhaps mid-handler
        first.wait(10)
        assert count(ctx, Inbox) < EVENTS
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(command, env=env)
    try:
        wait_until(lambda: count(ctx, Inbox) == EVENTS, timeout=90, message="every event handled after the restart")
    finally:
        second.terminate()
        second.wait(10)

    with ctx.db.session() as session:
        rows = session.execute(select(Delivery.event_id, Delivery.recipient)).all()
    assert len(rows) == EVENTS
    assert {event_id for event_id, _ in rows} == {e.id for e in events}
    deliver.send()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"p{n:03d}@example.org" for n in range(EVENTS))
