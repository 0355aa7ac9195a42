"""Notifications against this machine's own ceilings: ``python -m bench.notifications`` (also part of ``make bench``).

1. A session rescheduled for ``BENCH_REGISTRANTS`` (1,000) confirmed registrants: from the moment its
   ``scheduling.session.rescheduled`` event is published on RabbitMQ until the last e-mail reaches a
   local SMTP server (aiosmtpd), through the service's consumer, delivery log and sender, as the
   worker runs them. The ceiling: plain smtplib, one kept connection, sending the same rendered
   messages to the same server.
2. Webhook deliveries per second to a local receiver (``BENCH_WEBHOOKS``, 2,000): signed, claimed and
   recorded in the delivery log, against plain ``requests`` posts of the same bodies on a kept-alive
   session to the same receiver.

A run that loses or duplicates a message is FAILED. PostgreSQL and RabbitMQ come from
DATABASE_TEST_URL and BROKER_TEST_URL, each run in a schema and a broker namespace of its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.testing import spare_port

TARGETS = {"reschedule": 0.50, "webhooks": 0.50}


class _Counting:
    """An aiosmtpd handler counting the recipients of what it receives."""

    def __init__(self):
        self.recipients: Counter = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"

    def total(self) -> int:
        with self.lock:
            return sum(self.recipients.values())


def _smtp_server():
    from aiosmtpd.controller import Controller

    handler, port = _Counting(), spare_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler, port


def _receiver():
    received: Counter = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

        def do_POST(self):
            self.rfile.read(int(self.headers["content-length"]))
            with lock:
                received[self.headers.get("webhook-id") or "plain"] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", spare_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received, lock


def _context(smtp_port: int, schema: str, namespace: str):
    from services.notifications.bootstrap import build_context, migrate
    from services.notifications.config import NotificationsConfig
    from shared.testing import POSTGRES_URL, RABBITMQ_URL

    config = NotificationsConfig.from_env(
        database_url=POSTGRES_URL,
        db_schema=schema,
        broker_url=RABBITMQ_URL,
        broker_folder="",
        broker_namespace=namespace,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        webhook_allow_private=True,
        unsubscribe_secret="bench-" + "0123456789abcdef" * 4,  # as deployed: each e-mail carries its link
        log_level="WARNING",
    )
    migrate(config)
    return build_context(config)


def reschedule_figures(registrants: int) -> dict:
    """One reschedule for ``registrants`` people: the service's time to the last e-mail, against smtplib."""
    import smtplib

    from services.notifications.handlers import build_handlers
    from services.notifications.mail import SmtpMailer, build_message
    from services.notifications.models import ContactPoint, Delivery
    from services.notifications.use_cases.sending import send_pending, unsubscribe_url
    from shared.envelope import make_event
    from shared.messaging.bus import Outgoing, Publisher
    from shared.messaging.consumer import EventConsumer

    run = uuid.uuid4().hex[:8]
    schema, namespace = f"bench_notifications_{run}", f"benchn{run}."
    controller, smtp, port = _smtp_server()
    ctx = _context(port, schema, namespace)
    people = [f"person-{n:05d}" for n in range(registrants)]
    with ctx.db.unit_of_work() as uow:
        uow.session.add_all(
            ContactPoint(tenant="CA", person=p, email=f"{p}@example.org", language="es" if n % 3 else "en")
            for n, p in enumerate(people)
        )
        uow.commit()
    starts = (datetime.now(UTC) + timedelta(days=9)).replace(microsecond=0)
    data = {
        "session_id": str(uuid.uuid4()),
        "cohort_id": str(uuid.uuid4()),
        "series_id": "series",
        "title": "Session 4: Culture, family and care",
        "format": "in_person",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "time_zone": "America/Los_Angeles",
        "local_start": starts.isoformat(),
        "local_end": (starts + timedelta(hours=3)).isoformat(),
        "place": {"venue": "Fresno Training Center", "address": "1 Main St, Fresno, CA", "room": "B"},
        "meeting_url": None,
        "facilitators": [],
        "registrant_ids": people,
        "sequence": 1,
        "reason": "The room was double-booked",
        "previous_starts_at": (starts - timedelta(days=1)).isoformat(),
    }
    event = make_event(
        "scheduling.session.rescheduled",
        source="/services/scheduling",
        subject=data["session_id"],
        tenant="CA",
        data=data,
    )
    bus = ctx.extra["bus"]
    consumer = EventConsumer(bus, ctx.db, ctx.tables, "notifications", build_handlers(ctx.extra["notifier"]))
    stop = threading.Event()

    def sender():
        mailer = SmtpMailer(ctx.config)
        while not stop.is_set():
            if not send_pending(ctx.db, ctx.config, mailer):
                stop.wait(0.02)
        mailer.close()

    threads = [threading.Thread(target=consumer.run, daemon=True), threading.Thread(target=sender, daemon=True)]
    try:
        for thread in threads:
            thread.start()
        consumer.ready.wait(30)
        started = time.perf_counter()
        with bus.connection(publishing=True) as conn:
            Publisher(bus, conn).publish(Outgoing(event.id, bus.topology.exchange, event.type, event.to_json()))
        deadline = time.monotonic() + 600
        while smtp.total() < registrants and time.monotonic() < deadline:
            time.sleep(0.01)
        service_seconds = time.perf_counter() - started
        time.sleep(1.0)  # anything sent twice would arrive now
        received = dict(smtp.recipients)
    finally:
        stop.set()
        consumer.stop()
        for thread in threads:
            thread.join(10)
    with ctx.db.session() as session:
        messages = [
            build_message(row, ctx.config.mail_from, unsubscribe_url(ctx.config, row))
            for row in session.query(Delivery).all()
        ]
    # The ceiling: the same rendered messages, plain smtplib on one kept connection, to a fresh server.
    controller2, smtp2, port2 = _smtp_server()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port2) as client:
        for message in messages:
            client.send_message(message)
    ceiling_seconds = time.perf_counter() - started
    controller.stop()
    controller2.stop()
    _drop(ctx, schema, namespace)
    lost = [p for p in people if received.get(f"{p}@example.org", 0) == 0]
    duplicated = [r for r, n in received.items() if n > 1]
    return {
        "registrants": registrants,
        "service_seconds": round(service_seconds, 3),
        "service_per_second": round(registrants / service_seconds, 1),
        "ceiling_seconds": round(ceiling_seconds, 3),
        "ceiling_per_second": round(len(messages) / ceiling_seconds, 1),
        "ratio": round(ceiling_seconds / service_seconds, 3),
        "lost": len(lost),
        "duplicated": len(duplicated),
    }


def webhook_figures(count: int) -> dict:
    """``count`` signed deliveries through the delivery log and sender, against plain kept-alive posts."""
    import requests

    from services.notifications.models import Delivery, WebhookSubscription
    from services.notifications.use_cases.sending import send_pending
    from services.notifications.webhooks import WebhookPoster

    run = uuid.uuid4().hex[:8]
    schema, namespace = f"bench_notifications_{run}", f"benchn{run}."
    server, received, lock = _receiver()
    url = f"http://127.0.0.1:{server.server_address[1]}/events"
    ctx = _context(spare_port(), schema, namespace)
    bodies = [
        json.dumps({"id": str(uuid.uuid4()), "type": "scheduling.registration.confirmed", "n": n}) for n in range(count)
    ]
    with ctx.db.unit_of_work() as uow:
        hook = WebhookSubscription(
            tenant="CA",
            url=url,
            event_types=["scheduling.registration.confirmed"],
            secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" + "==",
            status="active",
            created_by="bench",
        )
        uow.session.add(hook)
        uow.session.flush()
        uow.session.add_all(
            Delivery(
                tenant="CA",
                event_id=str(uuid.uuid4()),
                event_type="scheduling.registration.confirmed",
                recipient=hook.id,
                channel="webhook",
                template="scheduling.registration.confirmed",
                message_id=f"msg_{uuid.uuid4().hex}",
                language="",
                subject="scheduling.registration.confirmed",
                text_body=body,
                html_body="",
                status="pending",
            )
            for body in bodies
        )
        uow.commit()
    poster = WebhookPoster(ctx.config)
    started = time.perf_counter()
    while send_pending(ctx.db, ctx.config, None, poster):
        pass
    service_seconds = time.perf_counter() - started
    poster.close()
    with lock:
        signed = {k: v for k, v in received.items() if k != "plain"}
    session = requests.Session()
    started = time.perf_counter()
    for body in bodies:
        session.post(url, data=body.encode(), headers={"content-type": "application/json"}, timeout=10).close()
    ceiling_seconds = time.perf_counter() - started
    session.close()
    server.shutdown()
    server.server_close()
    _drop(ctx, schema, namespace)
    return {
        "deliveries": count,
        "service_per_second": round(count / service_seconds, 1),
        "ceiling_per_second": round(count / ceiling_seconds, 1),
        "ratio": round(ceiling_seconds / service_seconds, 3),
        "lost": count - len(signed),
        "duplicated": sum(1 for n in signed.values() if n > 1),
    }


def _drop(ctx, schema: str, namespace: str) -> None:
    from shared.testing import RABBITMQ_URL, drop_pg_schema
    from tests.helpers import delete_namespace

    ctx.db.dispose()
    drop_pg_schema(schema)
    try:
        delete_namespace(RABBITMQ_URL, namespace)
    except Exception:  # noqa: BLE001 - the bench's figures stand; a leftover queue is only untidy
        pass


def figures() -> dict:
    registrants = int(os.environ.get("BENCH_REGISTRANTS", "1000"))
    webhooks = int(os.environ.get("BENCH_WEBHOOKS", "2000"))
    return {
        "load_average": os.getloadavg(),
        "reschedule": reschedule_figures(registrants),
        "webhooks": webhook_figures(webhooks),
    }


def verdicts(result: dict) -> list[dict]:
    out = []
    for name, target in TARGETS.items():
        figure = result[name]
        broken = figure["lost"] or figure["duplicated"]
        verdict = "FAILED" if broken else ("PASS" if figure["ratio"] >= target else "MISS")
        detail = f"{figure['ratio']:.0%} of its ceiling (target {target:.0%}); lost {figure['lost']}, duplicated {figure['duplicated']}"
        out.append({"name": f"notifications {name}", "verdict": verdict, "detail": detail})
    return out


def report(result: dict) -> None:
    r, w = result["reschedule"], result["webhooks"]
    print("\nNotifications (figures from a shared, loaded machine; load average", result["load_average"], ")")
    print(
        f"  reschedule of {r['registrants']} registrants: last e-mail after {r['service_seconds']} s "
        f"({r['service_per_second']}/s); smtplib ceiling {r['ceiling_per_second']}/s"
    )
    print(
        f"  webhooks: {w['service_per_second']}/s signed and logged; plain requests ceiling {w['ceiling_per_second']}/s"
    )
    for verdict in verdicts(result):
        print(f"  {verdict['verdict']:<6} {verdict['name']}: {verdict['detail']}")


def main() -> int:
    result = figures()
    report(result)
    return 1 if any(v["verdict"] == "FAILED" for v in verdicts(result)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
