"""On RabbitMQ, notifications' consumer with its batches: killed in the middle of a batch it loses
nothing and duplicates nothing; a batch writes what the same events write one by one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import asdict

import pytest
from sqlalchemy import select

from services.notifications.handlers import build_batch_handlers
from services.notifications.models import Delivery, Reminder
from shared.envelope import parse_event
from shared.messaging.bus import Outgoing, Publisher
from shared.testing import wait_until
from tests.notifications.conftest import next_week, registration_event, session_data, session_event
from tests.notifications.test_consumer_rabbitmq import count

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]
EVENTS = 150


def process_settings(ctx) -> dict:
    settings = {
        k: v for k, v in asdict(ctx.config).items() if not k.startswith("jwt_") or k == "jwt_dev_private_key_file"
    }
    settings.update(
        jwt_issuer=ctx.config.jwt_issuer,
        jwt_audience=ctx.config.jwt_audience,
        jwt_jwks_url="",
        jwt_public_key_file="",
        consumer_batch_size=10,
    )
    for key in ("jwt_algorithms", "jwt_role_map", "jwt_tenant_map", "reminder_minutes"):
        settings.pop(key, None)
    return settings


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_a_batching_consumer_killed_mid_batch_loses_and_duplicates_nothing(
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

    command = [
        sys.executable,
        "-m",
        "tests.notifications.consumer_process",
        json.dumps(process_settings(ctx)),
        "batch",
    ]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    Inbox = ctx.tables.inbox
    first = subprocess.Popen(command, env=env)
    try:
        wait_until(lambda: count(ctx, Inbox) >= 30, timeout=60, message="the first consumer to commit some batches")
        first.send_signal(signal.SIGKILL)  # a batch in its handler, the next prefetched, none of them acked
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


def written(ctx, tenant: str) -> tuple[list, list]:
    """What the events wrote for ``tenant``, without what differs by nature (ids, times, Message-IDs, and the
    jurisdiction each unsubscribe link signs: checked here, then the link is read as its person and kind)."""
    import re

    from services.notifications.domain.unsubscribe import read_token

    def link(found) -> str:
        asked = read_token(ctx.config.unsubscribe_secret, found.group(1))
        assert asked is not None and asked.tenant == tenant
        return f"/unsubscribe/{asked.person}:{asked.kind}"

    def links_read(body: str) -> str:
        return re.sub(r"/unsubscribe/([\w-]+\.[\w-]+)", link, body)

    with ctx.db.session() as session:
        messages = sorted(
            (d.recipient, d.template, d.subject, links_read(d.text_body), links_read(d.html_body), d.language, d.status)
            for d in session.scalars(select(Delivery).where(Delivery.tenant == tenant))
        )
        reminders = sorted(
            (r.person, r.minutes_before, r.status, r.due_at)
            for r in session.scalars(select(Reminder).where(Reminder.tenant == tenant))
        )
    return messages, reminders


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_a_batch_writes_what_the_same_events_write_one_by_one(notifications_ctx, deliver, broker, database):
    """Confirmations, a waitlisting, a cancellation of someone confirmed earlier in the batch and a
    re-confirmation: the batch's caches must follow its own writes."""
    ctx = notifications_ctx
    batch = build_batch_handlers(ctx.extra["notifier"])["notify"]
    queue = next(q for q, s in deliver.consumer.subscriptions.items() if s.handler == "notify")
    for tenant, one_by_one in (("CA", True), ("WA", False)):
        ids = {"session_id": str(uuid.uuid4()), "cohort_id": str(uuid.uuid4())}
        cohort = {"cohort_id": ids["cohort_id"]}
        steps = [
            session_event("scheduled", session_data(next_week(), registrants=(), **ids), tenant=tenant),
            registration_event("confirmed", "ana", "ana@example.org", tenant=tenant, **cohort),
            registration_event("confirmed", "ben", "ben@example.org", tenant=tenant, **cohort),
            registration_event("waitlisted", "cy", "cy@example.org", tenant=tenant, **cohort),
            registration_event("cancelled", "ana", "ana@example.org", tenant=tenant, **cohort),
            registration_event("promoted", "cy", "cy@example.org", tenant=tenant, **cohort),
            registration_event("confirmed", "ana", "ana.new@example.org", tenant=tenant, **cohort),
        ]
        if one_by_one:
            for event in steps:
                deliver.event(event)
        else:
            deliver.event(steps[0])  # the session first, then the registrations as one batch
            events = [parse_event(e.to_json()) for e in steps[1:]]
            deliver.consumer.batch_handlers = {"notify": batch}
            assert deliver.consumer.handle_batch(queue, events) == ["handled"] * len(events)
    assert written(ctx, "CA") == written(ctx, "WA")
    messages, reminders = written(ctx, "WA")
    assert len(messages) == 6  # one per registration event; the session had nobody to tell when scheduled
    assert sorted((r[0], r[2]) for r in reminders) == [
        (person, "pending") for person in ("ana", "ana", "ben", "ben", "cy", "cy")
    ]
