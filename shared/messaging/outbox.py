"""Transactional outbox: events are rows written with the change; a relay publishes them with confirms."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update

from shared.db import Database, utcnow
from shared.envelope import Envelope
from shared.logging import get_logger
from shared.messaging.bus import Bus, Outgoing, Publisher, Unroutable
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

    A batch's rows stay locked (PostgreSQL) while it publishes, so its time is bounded: each publish
    waits at most ``bus.publish_timeout``, and no publish starts after ``batch_deadline`` seconds.
    When the broker stalls or fails, the rows it confirmed are marked sent, the others are left
    pending for the next batch, and the relay reconnects with back-off.
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

    def relay_batch(self, publisher: Publisher) -> int:
        """Publish one batch; return how many rows were settled. A broker fault is raised after the
        rows confirmed before it are marked sent."""
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
            sent, unroutable, fault = [], [], None
            for row in rows:
                if time.monotonic() > deadline:
                    break  # a slow broker: settle what is confirmed and let go of the rest
                out = Outgoing(
                    message_id=row.message_id,
                    exchange=self._exchange_name(row),
                    routing_key=row.routing_key,
                    body=row.body,
                )
                try:
                    publisher.publish(out)
                    sent.append(row.id)
                    EVENTS_PUBLISHED.labels(row.event_type).inc()
                except Unroutable:
                    # Nobody subscribes to this type (yet): keep the row for audit, stop retrying it.
                    log.warning("event unroutable", event_type=row.event_type, message_id=row.message_id)
                    unroutable.append(row.id)
                except Exception as exc:  # not confirmed in time, or the connection failed: stop here
                    fault = exc
                    break
            now = utcnow()
            if sent:
                uow.session.execute(update(Outbox).where(Outbox.id.in_(sent)).values(status=OUTBOX_SENT, sent_at=now))
            if unroutable:
                uow.session.execute(
                    update(Outbox).where(Outbox.id.in_(unroutable)).values(status=OUTBOX_UNROUTABLE, sent_at=now)
                )
            uow.commit()
        if fault is not None:
            raise fault
        return len(sent) + len(unroutable)

    def run(self) -> None:
        """Relay until stopped; reconnect with exponential back-off when the broker goes away."""
        backoff = 0.5
        while not self.stopping.is_set():
            conn = self.bus.connection(publishing=True)
            try:
                conn.ensure_connection(max_retries=1, timeout=self.bus.connect_timeout)
                self.bus.declare(conn.default_channel)
                # No retry inside a publish: a batch holds its rows' locks, so a failure ends it at
                # once and the relay reconnects here, with the rows unlocked.
                publisher = Publisher(self.bus, conn, retry_policy=None)
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
