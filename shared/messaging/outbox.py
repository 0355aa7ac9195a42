"""Transactional outbox: events are rows written with the change; a relay publishes them with confirms."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update

from shared.db import Database, utcnow
from shared.envelope import Envelope
from shared.logging import get_logger
from shared.messaging.bus import BatchPublisher, Bus, Outgoing
from shared.metrics import EVENTS_PUBLISHED
from shared.tables import OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_UNROUTABLE, PlatformTables

log = get_logger("outbox")


def add_event(session, tables: PlatformTables, event: Envelope, *, exchange: str = "events") -> None:
    """Stage ``event`` in the caller's transaction; it is published only if that transaction commits."""
    session.add(tables.outbox(**outbox_values(event, exchange=exchange)))


def outbox_values(event: Envelope, *, exchange: str = "events") -> dict:
    """The outbox row of ``event``, for writers that insert rows themselves (``shared.db.insert_many``)."""
    return {
        "message_id": event.id,
        "event_type": event.type,
        "exchange": exchange,
        "routing_key": event.type,
        "body": event.to_json(),
        "status": OUTBOX_PENDING,
        "attempts": 0,
        "created_at": utcnow(),
    }


def add_direct(session, tables: PlatformTables, *, message_id: str, queue: str, body: str, event_type: str) -> None:
    """Stage a message for one queue only (a replayed dead letter), through the default exchange."""
    session.add(tables.outbox(message_id=message_id, event_type=event_type, exchange="", routing_key=queue, body=body))


class OutboxRelay:
    """Publishes pending outbox rows in batches and marks them sent; backs off while the broker is away.

    Each batch is published at once and its confirms awaited together (``BatchPublisher``), then
    the confirmed rows are marked sent in one statement. A batch's rows stay locked (PostgreSQL)
    while it publishes, so its time is bounded: no publish starts after ``batch_deadline`` seconds,
    and the confirms are awaited at most ``bus.publish_timeout`` after the last one. When the broker
    stalls, fails or refuses some, the rows it confirmed are marked sent, the others are left
    pending for the next batch, and after a fault the relay reconnects with back-off.
    """

    def __init__(
        self,
        db: Database,
        tables: PlatformTables,
        bus: Bus,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.2,
        max_backoff: float = 30.0,
        batch_deadline: float = 5.0,
    ):
        self.db = db
        self.tables = tables
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.batch_deadline = batch_deadline
        self.stopping = threading.Event()

    def _exchange_name(self, row) -> str:
        # Rows store the logical name; the bus's namespace (tests, shared brokers) is applied here.
        return self.bus.topology.exchange if row.exchange == "events" else row.exchange

    def relay_batch(self, publisher: BatchPublisher) -> int:
        """Publish one batch, wait for its confirms, and mark what the broker confirmed in one
        statement; return how many rows were settled. A broker fault is raised after that.

        Nothing is marked sent that the broker did not confirm: a nacked row, one not confirmed in
        time, and one never published stay pending for the next round (at least once: consumers
        de-duplicate by event id).
        """
        Outbox = self.tables.outbox
        deadline = time.monotonic() + self.batch_deadline
        with self.db.unit_of_work() as uow:
            stmt = select(Outbox).where(Outbox.status == OUTBOX_PENDING).order_by(Outbox.id).limit(self.batch_size)
            if self.db.is_postgres:
                # Several relays may run; each takes rows the others have not locked.
                stmt = stmt.with_for_update(skip_locked=True)
            rows = uow.session.scalars(stmt).all()
            if not rows:
                return 0
            outcome = publisher.publish_batch(
                [
                    Outgoing(
                        message_id=row.message_id,
                        exchange=self._exchange_name(row),
                        routing_key=row.routing_key,
                        body=row.body,
                    )
                    for row in rows
                ],
                deadline=deadline,
            )
            sent = [rows[i] for i in outcome.confirmed]
            unroutable = [rows[i] for i in outcome.unroutable]
            for row in sent:
                EVENTS_PUBLISHED.labels(row.event_type).inc()
            for row in unroutable:
                # Nobody subscribes to this type (yet): keep the row for audit, stop retrying it.
                log.warning("event unroutable", event_type=row.event_type, message_id=row.message_id)
            if outcome.nacked:
                log.warning("broker refused events; they stay pending", count=len(outcome.nacked))
            now = utcnow()
            if sent:
                uow.session.execute(
                    update(Outbox).where(Outbox.id.in_([r.id for r in sent])).values(status=OUTBOX_SENT, sent_at=now)
                )
            if unroutable:
                uow.session.execute(
                    update(Outbox)
                    .where(Outbox.id.in_([r.id for r in unroutable]))
                    .values(status=OUTBOX_UNROUTABLE, sent_at=now)
                )
            uow.commit()
        if outcome.fault is not None:
            raise outcome.fault
        return len(sent) + len(unroutable)

    def run(self) -> None:
        """Relay until stopped; reconnect with exponential back-off when the broker goes away."""
        backoff = 0.5
        while not self.stopping.is_set():
            conn = self.bus.connection(publishing=True, confirm_each=False)
            try:
                conn.ensure_connection(max_retries=1, timeout=self.bus.connect_timeout)
                self.bus.declare(conn.default_channel)
                # No retry inside a publish: a batch holds its rows' locks, so a failure ends it at
                # once and the relay reconnects here, with the rows unlocked.
                publisher = BatchPublisher(self.bus, conn)
                log.info("outbox relay connected", broker=self.bus.describe())
                backoff = 0.5
                while not self.stopping.is_set():
                    if self.relay_batch(publisher) < self.batch_size:
                        self.stopping.wait(self.poll_interval)
            except Exception as exc:  # broker or database away: unconfirmed rows stay pending, retry later
                log.warning("outbox relay paused", error=f"{type(exc).__name__}: {exc}", retry_in=backoff)
                # collect() drops the socket without the goodbye a stalled broker would never answer.
                conn.collect()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            else:
                conn.release()

    def stop(self) -> None:
        self.stopping.set()
