"""The consumer loop: idempotent handling (inbox), ack after commit, retries with back-off, dead letters.

A handler is ``handler(event: Envelope, uow: UnitOfWork) -> None``; it must not commit. The loop
records the event id in the inbox in the same transaction, commits, and only then acks.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import structlog
from kombu import Producer
from kombu.mixins import ConsumerMixin
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared.db import Database, utcnow
from shared.envelope import CONTENT_TYPE, Envelope, InvalidEvent, parse_event
from shared.http.metrics import EVENTS_HANDLED
from shared.logging import get_logger
from shared.messaging.bus import PUBLISH_RETRY_POLICY, Bus
from shared.tables import PlatformTables

log = get_logger("consumer")
Handler = Callable[[Envelope, object], None]
ATTEMPT_HEADER = "x-attempt"
REASON_HEADER = "x-dead-reason"


def routes_for(bus: Bus, consumer: str, handlers: dict[str, Handler]) -> dict[str, dict[str, Handler]]:
    """Map each of ``consumer``'s work queues to {event type: handler}, from the one topology."""
    routes = {}
    for sub in bus.topology.for_consumer(consumer):
        handler = handlers[sub.handler]
        routes[bus.topology.work_queue(sub)] = {t: handler for t in sub.event_types}
    return routes


class EventConsumer(ConsumerMixin):
    """Consumes a service's work queues and files its dead letters into its own database."""

    def __init__(self, bus: Bus, db: Database, tables: PlatformTables, consumer: str,
                 handlers: dict[str, Handler], *, prefetch: int = 20, collect_dead_letters: bool = True,
                 sleep: Callable[[float], None] = time.sleep):
        self.bus = bus
        self.db = db
        self.tables = tables
        self.consumer = consumer
        self.routes = routes_for(bus, consumer, handlers)
        self.subscriptions = {bus.topology.work_queue(s): s for s in bus.topology.for_consumer(consumer)}
        self.prefetch = prefetch
        self.collect_dead_letters = collect_dead_letters
        self.sleep = sleep
        self.connection = bus.connection()
        self.connect_max_retries = None
        self.ready = threading.Event()

    # --- kombu plumbing -------------------------------------------------------------------

    def get_consumers(self, Consumer, channel):
        self.bus.declare(channel)
        consumers = []
        for sub in self.subscriptions.values():
            work = self.bus.work_queue(sub)
            consumers.append(Consumer(queues=[work], prefetch_count=self.prefetch,
                                      on_message=lambda m, q=work.name: self.on_work_message(q, m)))
            if not self.collect_dead_letters:
                continue
            dead = self.bus.dead_queue(sub)
            consumers.append(Consumer(queues=[dead], prefetch_count=self.prefetch,
                                      on_message=lambda m, q=work.name: self.on_dead_message(q, m)))
        return consumers

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self._active = connection
        log.info("consumer connected", broker=self.bus.describe(), queues=sorted(self.subscriptions))
        self.ready.set()

    def on_iteration(self):
        # Keep heartbeats flowing even while messages arrive back to back.
        try:
            self._active.heartbeat_check()
        except Exception:  # the next drain raises the real connection error
            pass

    def run(self, _tokens=1, **kwargs):
        """Consume until stopped; kombu reconnects on broker errors, and anything else restarts the loop."""
        backoff = 0.5
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except Exception as exc:  # a database outage or a transport fault must not end the worker
                log.error("consumer loop failed", error=f"{type(exc).__name__}: {exc}", retry_in=backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self) -> None:
        self.should_stop = True

    # --- work messages --------------------------------------------------------------------

    def on_work_message(self, queue: str, message) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        try:
            event = parse_event(message.body)
        except InvalidEvent as exc:
            self._dead_letter(queue, message, f"invalid event: {exc}", attempt)
            return
        handler = self.routes.get(queue, {}).get(event.type)
        if handler is None:
            self._dead_letter(queue, message, f"no handler for {event.type} on {queue}", attempt)
            return
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlationid=event.correlationid, event_id=event.id,
                                               event_type=event.type, tenant=event.tenant, queue=queue)
        while True:
            try:
                outcome = self.handle_once(queue, event, handler)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("handler failed", attempt=attempt, error=error)
                delays = self.bus.topology.retry_delays
                if attempt >= len(delays):
                    self._dead_letter(queue, message, f"handler failed {attempt + 1} times: {error}", attempt)
                    return
                attempt += 1
                if self.bus.is_rabbitmq:
                    # The wait queue's TTL dead-letters it back to the work queue after the delay.
                    self._republish(message, self.bus.topology.retry_queue(self.subscriptions[queue], attempt),
                                    {ATTEMPT_HEADER: attempt, "x-last-error": error[:500]})
                    message.ack()
                    EVENTS_HANDLED.labels(queue, "retried").inc()
                    return
                # No TTL queues off RabbitMQ: wait here, holding the unacked message.
                self.sleep(delays[attempt - 1])
                continue
            message.ack()
            EVENTS_HANDLED.labels(queue, outcome).inc()
            log.info("event handled" if outcome == "handled" else "duplicate event skipped")
            return

    def handle_once(self, queue: str, event: Envelope, handler: Handler) -> str:
        """Run ``handler`` and record the inbox row in one transaction; return the outcome."""
        Inbox = self.tables.inbox
        with self.db.unit_of_work() as uow:
            if uow.session.get(Inbox, (queue, event.id)) is not None:
                return "duplicate"
            handler(event, uow)
            uow.session.add(Inbox(consumer=queue, event_id=event.id, event_type=event.type))
            try:
                uow.commit()
            except IntegrityError:
                uow.rollback()
                # Another consumer of the same queue finished it first: that is a duplicate.
                if uow.session.get(Inbox, (queue, event.id)) is not None:
                    return "duplicate"
                raise
        return "handled"

    def _republish(self, message, queue: str, headers: dict) -> None:
        Producer(message.channel).publish(
            message.body, exchange="", routing_key=queue, content_type=CONTENT_TYPE,
            content_encoding="utf-8", delivery_mode=2,
            message_id=message.properties.get("message_id"),
            headers={**(message.headers or {}), **headers},
            retry=True, retry_policy=PUBLISH_RETRY_POLICY,
        )

    def _dead_letter(self, queue: str, message, reason: str, attempt: int) -> None:
        log.error("dead-lettering message", queue=queue, reason=reason)
        sub = self.subscriptions[queue]
        self._republish(message, self.bus.topology.dead_queue(sub),
                        {ATTEMPT_HEADER: attempt, REASON_HEADER: reason[:1000]})
        message.ack()
        EVENTS_HANDLED.labels(queue, "dead").inc()

    # --- dead letters ---------------------------------------------------------------------

    def on_dead_message(self, queue: str, message) -> None:
        """File a dead letter of work queue ``queue`` in the database, then ack."""
        store_dead_letter(self.db, self.tables, queue, message.body, message.headers or {},
                          message.properties.get("message_id"))
        message.ack()


def _text(body) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)


def store_dead_letter(db: Database, tables: PlatformTables, queue: str, body, headers: dict,
                      message_id: str | None) -> None:
    text = _text(body)
    event_id = event_type = tenant = None
    try:
        event = parse_event(text)
        event_id, event_type, tenant = event.id, event.type, event.tenant
    except InvalidEvent:
        pass
    key = event_id or message_id or hashlib.sha256(text.encode()).hexdigest()
    reason = str(headers.get(REASON_HEADER) or _broker_reason(headers) or "dead-lettered")
    DeadLetter = tables.dead_letter
    with db.unit_of_work() as uow:
        row = uow.session.scalars(select(DeadLetter).where(
            DeadLetter.queue == queue, DeadLetter.message_key == key)).first()
        if row is None:
            row = DeadLetter(queue=queue, message_key=key)
            uow.session.add(row)
        row.event_id, row.event_type, row.tenant = event_id, event_type, tenant
        row.body, row.reason, row.status = text, reason, "dead"
        row.attempts = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        row.created_at = utcnow()
        uow.commit()


def _broker_reason(headers: dict) -> str:
    deaths = headers.get("x-death") or []
    if deaths:
        first = deaths[0]
        return f"broker dead-lettered ({first.get('reason')}) from {first.get('queue')}"
    return ""
