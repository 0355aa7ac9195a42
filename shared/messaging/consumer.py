"""The consumer loop: idempotent handling (inbox), ack after commit, retries with back-off, dead letters.

A handler is ``handler(event: Envelope, uow: UnitOfWork) -> None``; it must not commit. The loop
records the event id in the inbox in the same transaction, commits, and only then acks.

Retries and dead letters are copies published on a connection of their own (never from inside a
delivery callback on the consuming connection), each confirmed within a timeout, and the original
is acked only after its copy is confirmed. The event that kills its consumer's process is counted
in the database (``unfinished_runs``) and dead-lettered after ``topology.crash_limit`` deaths; the
innocent messages the broker dead-letters with it for its delivery limit are re-driven.

With ``batch_size`` above 1, the messages of one queue that arrive together are handled in one
transaction (one inbox query, one commit) and acked after it commits. A batch that fails for any
reason is rolled back and its messages handled one by one, as above, so a poison message meets
its retries and dead letter alone and never fails its neighbours. A redelivered message is never
batched: it may be the one that ended the last process, and is counted as one run (see above).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import kombu
import structlog
from kombu.mixins import ConsumerMixin
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from shared.db import Database, database_answers, insert_many, utcnow
from shared.envelope import Envelope, InvalidEvent, parse_event
from shared.logging import get_logger
from shared.messaging.bus import Bus, Outgoing, Publisher
from shared.metrics import EVENTS_HANDLED
from shared.tables import PlatformTables

log = get_logger("consumer")
Handler = Callable[[Envelope, object], None]
# Handles several events of one queue in one unit of work, in the order given; must not commit.
BatchHandler = Callable[[list[Envelope], object], None]
ATTEMPT_HEADER = "x-attempt"
REASON_HEADER = "x-dead-reason"
REDRIVE_HEADER = "x-redriven"
# A message the broker dead-letters for its delivery limit more often than this is filed even if it
# never ran: something keeps killing its consumer, and an operator should look.
MAX_REDRIVES = 10
# Headers the broker adds when it dead-letters or redelivers; a re-driven copy starts without them.
BROKER_HEADERS = (
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
)
# A batch is handled when it is full, when no message has come for BATCH_IDLE seconds, or when its
# first message has waited BATCH_MAX_WAIT seconds: a trickle of events is not held back for long.
BATCH_IDLE = 0.005
BATCH_MAX_WAIT = 0.1
# One publishing attempt, then one more on a fresh connection: a publishing connection idles
# without heartbeats and may have been dropped since its last use.
FORWARD_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0}
# Longest pause between two checks of a database that is away (the first comes after half a second).
DATABASE_CHECK_MAX_INTERVAL = 5.0


def routes_for(bus: Bus, consumer: str, handlers: dict[str, Handler]) -> dict[str, dict[str, Handler]]:
    """Map each of ``consumer``'s work queues to {event type: handler}, from the one topology."""
    routes = {}
    for sub in bus.topology.for_consumer(consumer):
        handler = handlers[sub.handler]
        routes[bus.topology.work_queue(sub)] = {t: handler for t in sub.event_types}
    return routes


class EventConsumer(ConsumerMixin):
    """Consumes a service's work queues and files its dead letters into its own database."""

    def __init__(
        self,
        bus: Bus,
        db: Database,
        tables: PlatformTables,
        consumer: str,
        handlers: dict[str, Handler],
        *,
        prefetch: int = 20,
        batch_size: int = 1,
        batch_handlers: dict[str, BatchHandler] | None = None,
        collect_dead_letters: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """``batch_size`` > 1 handles up to that many messages of a queue in one transaction; a handler
        named in ``batch_handlers`` is then given them all at once (to load what they share in a few
        queries), the others one after another in the same transaction."""
        self.bus = bus
        self.db = db
        self.tables = tables
        self.consumer = consumer
        self.routes = routes_for(bus, consumer, handlers)
        self.subscriptions = {bus.topology.work_queue(s): s for s in bus.topology.for_consumer(consumer)}
        # Four batches' worth: a batch is acked at once, and the broker then refills the window a
        # batch at a time; with two, the consumer waited for deliveries (bench.pipeline, consumer
        # alone: 1,370/s with 200 unacked, 1,850/s with 400, 1,970/s with 600).
        self.prefetch = max(prefetch, 4 * batch_size) if batch_size > 1 else prefetch
        self.batch_size = batch_size
        self.batch_handlers = batch_handlers or {}
        self._batches: dict[str, list[tuple[object, Envelope, int]]] = {}
        self._batch_since = 0.0  # when the first of the waiting messages came
        self.collect_dead_letters = collect_dead_letters
        self.sleep = sleep
        self.connection = bus.connection()
        self.connect_max_retries = None
        self.ready = threading.Event()
        self._publisher: Publisher | None = None  # opened on first use, on its own connection

    # --- kombu plumbing -------------------------------------------------------------------

    def get_consumers(self, Consumer, channel):
        self.bus.declare(channel)
        consumers = []
        for sub in self.subscriptions.values():
            work = self.bus.work_queue(sub)
            # On RabbitMQ each work queue has a channel of its own, so that a batch is acked with
            # one frame (``_ack_batch``); the channels close with their connection.
            on_channel = (
                partial(kombu.Consumer, channel.connection.client.channel(), on_decode_error=self.on_decode_error)
                if self._acks_batches
                else Consumer
            )
            consumers.append(
                on_channel(
                    queues=[work],
                    prefetch_count=self.prefetch,
                    on_message=lambda m, q=work.name: self.on_work_message(q, m),
                )
            )
            if not self.collect_dead_letters:
                continue
            dead = self.bus.dead_queue(sub)
            consumers.append(
                Consumer(
                    queues=[dead],
                    prefetch_count=self.prefetch,
                    on_message=lambda m, q=work.name: self.on_dead_message(q, m),
                )
            )
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
        try:
            while not self.should_stop:
                try:
                    super().run(_tokens, **kwargs)
                except Exception as exc:  # a database outage or a transport fault must not end the worker
                    log.error("consumer loop failed", error=f"{type(exc).__name__}: {exc}", retry_in=backoff)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
        finally:
            self._close_publisher()

    def stop(self) -> None:
        self.should_stop = True

    # --- work messages --------------------------------------------------------------------

    def consume(self, limit=None, timeout=None, safety_interval=1, **kwargs):
        """kombu's loop, which also handles the batches waiting when no message comes for a moment."""
        if self.batch_size <= 1:
            yield from super().consume(limit=limit, timeout=timeout, safety_interval=safety_interval, **kwargs)
            return
        with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
            try:
                while not self.should_stop:
                    self.on_iteration()
                    waiting = bool(self._batches)
                    try:
                        conn.drain_events(timeout=BATCH_IDLE if waiting else safety_interval)
                    except TimeoutError:
                        if waiting:
                            self._handle_batches()
                        else:
                            conn.heartbeat_check()
                    except OSError:
                        if not self.should_stop:
                            raise
                    else:
                        if self._batches and time.monotonic() - self._batch_since > BATCH_MAX_WAIT:
                            self._handle_batches()
                        yield
                # Stopping: what was received is handled and acked while the connection is still open.
                self._handle_batches()
            finally:
                # After a connection error the broker delivers these again; they cannot be acked here.
                self._batches.clear()

    def on_work_message(self, queue: str, message) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0))
        try:
            event = parse_event(message.body)
        except InvalidEvent as exc:
            self._bind(queue, message)
            self._dead_letter(queue, message, f"invalid event: {exc}", attempt)
            return
        self._bind(queue, message, event)
        handler = self.routes.get(queue, {}).get(event.type)
        if handler is None:
            self._dead_letter(queue, message, f"no handler for {event.type} on {queue}", attempt)
            return
        if self.batch_size > 1:
            if not _redelivered(message):
                if not self._batches:
                    self._batch_since = time.monotonic()
                batch = self._batches.setdefault(queue, [])
                batch.append((message, event, attempt))
                if len(batch) >= self.batch_size:
                    self._handle_batch(queue)
                return
            self._handle_batch(queue)  # what came before it goes first, as it would one by one
            self._bind(queue, message, event)
        self._handle_alone(queue, message, event, handler, attempt)

    def _bind(self, queue: str, message, event: Envelope | None = None) -> None:
        # The previous message's event must not lend its ids to this one's log lines.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**_log_fields(queue, message, event))

    def _handle_alone(self, queue: str, message, event: Envelope, handler: Handler, attempt: int) -> None:
        """Handle one message in its own transaction, with its retries and dead letter."""
        # A redelivered (or re-driven) message was in flight when a consumer's process or connection
        # ended: count this run before it starts, so a run that kills the process again is remembered.
        watched = _redelivered(message)
        if watched:
            try:
                earlier = self._start_run(queue, event.id)
            except Exception as exc:  # the database is away: the handler's own failure will say so
                log.warning("could not count the run", error=f"{type(exc).__name__}: {exc}")
                earlier, watched = 0, False
            if earlier >= self.bus.topology.crash_limit:
                if self._dead_letter(
                    queue,
                    message,
                    f"the consumer stopped {earlier} times while handling it (crashed, killed or hung)",
                    attempt,
                ):
                    self._forget_runs(queue, event.id)
                return
        while True:
            try:
                with self._heartbeats():
                    outcome = self.handle_once(queue, event, handler, watched=watched)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if not database_answers(self.db.engine):
                    # An outage is not the event's fault: it keeps its attempts and waits, unacked,
                    # for the database; retries would dead-letter every event of a longer outage.
                    log.warning("handler failed while the database is away", attempt=attempt, error=error)
                    if not self._wait_for_database():
                        return  # stopping: unacknowledged, the broker delivers it again
                    continue
                log.warning("handler failed", attempt=attempt, error=error)
                if watched:
                    self._forget_runs(queue, event.id)  # it failed, but its process lived on
                    watched = False
                delays = self.bus.topology.retry_delays
                if attempt >= len(delays):
                    self._dead_letter(queue, message, f"handler failed {attempt + 1} times: {error}", attempt)
                    return
                attempt += 1
                if self.bus.is_rabbitmq:
                    # The wait queue's TTL dead-letters it back to the work queue after the delay.
                    if self._forward(
                        message,
                        self.bus.topology.retry_queue(self.subscriptions[queue], attempt),
                        {ATTEMPT_HEADER: attempt, "x-last-error": error[:500]},
                    ):
                        EVENTS_HANDLED.labels(queue, "retried").inc()
                    return
                # No TTL queues off RabbitMQ: wait here, holding the unacked message.
                self.sleep(delays[attempt - 1])
                continue
            message.ack()
            EVENTS_HANDLED.labels(queue, outcome).inc()
            log.info("event handled" if outcome == "handled" else "duplicate event skipped")
            return

    # --- batches ------------------------------------------------------------------------------

    def _handle_batches(self) -> None:
        for queue in list(self._batches):
            self._handle_batch(queue)

    def _handle_batch(self, queue: str) -> None:
        """Handle the messages waiting for ``queue`` in one transaction, or one by one if that fails."""
        items = self._batches.pop(queue, [])
        if not items:
            return
        if len(items) > 1:
            # A batch's lines name its queue and size; no one message's ids.
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(queue=queue, batch=len(items))
            try:
                with self._heartbeats():
                    outcomes = self.handle_batch(queue, [event for _, event, _ in items])
            except Exception as exc:
                structlog.contextvars.clear_contextvars()
                log.warning(
                    "batch failed; handling its messages one by one",
                    queue=queue,
                    size=len(items),
                    error=f"{type(exc).__name__}: {exc}",
                )
            else:
                self._ack_batch([message for message, _, _ in items])
                for outcome, count in Counter(outcomes).items():
                    EVENTS_HANDLED.labels(queue, outcome).inc(count)
                for (message, event, _), outcome in zip(items, outcomes, strict=True):
                    log.info(
                        "event handled" if outcome == "handled" else "duplicate event skipped",
                        **_log_fields(queue, message, event),
                    )
                return
        for message, event, attempt in items:
            self._bind(queue, message, event)
            self._handle_alone(queue, message, event, self.routes[queue][event.type], attempt)

    @property
    def _acks_batches(self) -> bool:
        # kombu's other transports ack one delivery tag at a time, whatever ``multiple`` says.
        return self.batch_size > 1 and self.bus.is_rabbitmq

    def _ack_batch(self, messages: list) -> None:
        """Ack a committed batch, in one frame on RabbitMQ.

        A multiple ack settles every message of the channel up to the last one's delivery tag. Each
        work queue has a channel of its own, and every message of it that came before the last one
        of the batch is in the batch or was settled (acked, dead-lettered, forwarded for a retry or
        requeued) when it came: the loop handles one message at a time, and a message it does not
        batch is handled, and settled, at once. One frame, not one per message, also spares a
        quorum queue a log entry per message (about 40 % of the broker's CPU per event in
        bench.pipeline).
        """
        if self._acks_batches:
            messages[-1].ack(multiple=True)
            return
        for message in messages:
            message.ack()

    def handle_batch(self, queue: str, events: list[Envelope]) -> list[str]:
        """Run the handler on ``events`` and record their inbox rows in one transaction; the outcome of each.

        An event already in the inbox, or met earlier in the same batch, is a duplicate. Another
        consumer finishing one of them first makes the commit fail: the caller then goes one by one.
        """
        Inbox = self.tables.inbox
        name = self.subscriptions[queue].handler
        with self.db.unit_of_work() as uow:
            seen = set(
                uow.session.scalars(
                    select(Inbox.event_id).where(
                        Inbox.consumer == queue, Inbox.event_id.in_(sorted({e.id for e in events}))
                    )
                )
            )
            outcomes, fresh = [], []
            for event in events:
                outcomes.append("duplicate" if event.id in seen else "handled")
                if event.id not in seen:
                    seen.add(event.id)
                    fresh.append(event)
            if fresh:
                many = self.batch_handlers.get(name)
                if many is not None:
                    many(fresh, uow)
                else:
                    for event in fresh:
                        self.routes[queue][event.type](event, uow)
                now = utcnow()
                insert_many(
                    uow.session,
                    [
                        (
                            Inbox.__table__,
                            [
                                {"consumer": queue, "event_id": e.id, "event_type": e.type, "handled_at": now}
                                for e in fresh
                            ],
                        )
                    ],
                )
            uow.commit()
        return outcomes

    def _wait_for_database(self) -> bool:
        """Hold on until the database answers, heartbeats going on; False if told to stop meanwhile.

        The messages this consumer holds stay unacknowledged, and no more arrive past the prefetch
        window: the queue keeps them until the database is back.
        """
        log.warning("waiting for the database")
        pause, since = 0.5, time.monotonic()
        with self._heartbeats():
            while True:
                until = time.monotonic() + pause
                while time.monotonic() < until:
                    if self.should_stop:
                        return False
                    self.sleep(0.1)
                if database_answers(self.db.engine):
                    log.info("the database answers again", waited=round(time.monotonic() - since, 1))
                    return True
                pause = min(pause * 2, DATABASE_CHECK_MAX_INTERVAL)

    @contextmanager
    def _heartbeats(self) -> Iterator[None]:
        """Send the broker heartbeats while a handler runs, however long it takes.

        Heartbeats otherwise go out only between messages (``on_iteration``): a handler that outlasts
        two heartbeat intervals would have the broker close the connection and deliver its message,
        and the prefetched ones, again. Nothing else uses the connection while the handler runs (this
        thread only writes heartbeat frames, and is stopped before the message is acknowledged), so
        the two threads never write at once.
        """
        connection = getattr(self, "_active", None)
        if not self.bus.is_rabbitmq or connection is None or not self.bus.heartbeat:
            yield
            return
        stop = threading.Event()

        def beat():
            while not stop.wait(self.bus.heartbeat / 3):
                try:
                    connection.connection.send_heartbeat()
                except Exception:  # the connection is gone: the ack after the handler will say so
                    return

        thread = threading.Thread(target=beat, name="consumer-heartbeats", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def handle_once(self, queue: str, event: Envelope, handler: Handler, *, watched: bool = False) -> str:
        """Run ``handler`` and record the inbox row in one transaction; return the outcome."""
        Inbox = self.tables.inbox
        with self.db.unit_of_work() as uow:
            if uow.session.get(Inbox, (queue, event.id)) is not None:
                outcome = "duplicate"
            else:
                handler(event, uow)
                uow.session.add(Inbox(consumer=queue, event_id=event.id, event_type=event.type))
                outcome = "handled"
            if watched:
                uow.session.execute(self._clear_runs(queue, event.id))
            try:
                uow.commit()
            except IntegrityError:
                uow.rollback()
                # Another consumer of the same queue finished it first: that is a duplicate.
                if uow.session.get(Inbox, (queue, event.id)) is not None:
                    if watched:
                        self._forget_runs(queue, event.id)
                    return "duplicate"
                raise
        return outcome

    # --- runs that did not finish -----------------------------------------------------------

    def _clear_runs(self, queue: str, event_id: str):
        Run = self.tables.unfinished_run
        return delete(Run).where(Run.consumer == queue, Run.event_id == event_id)

    def _unfinished_runs(self, queue: str, event_id: str | None) -> int:
        if event_id is None:
            return 0
        with self.db.session() as session:
            run = session.get(self.tables.unfinished_run, (queue, event_id))
            return run.runs if run is not None else 0

    def _start_run(self, queue: str, event_id: str) -> int:
        """Count one more run of ``event_id`` (committed before it starts); return the earlier ones."""
        Run = self.tables.unfinished_run
        for _ in range(2):
            with self.db.unit_of_work() as uow:
                row = uow.session.get(Run, (queue, event_id), with_for_update=True)
                earlier = row.runs if row is not None else 0
                if row is None:
                    uow.session.add(Run(consumer=queue, event_id=event_id, runs=1, started_at=utcnow()))
                elif earlier < self.bus.topology.crash_limit:
                    row.runs, row.started_at = earlier + 1, utcnow()
                try:
                    uow.commit()
                    return earlier
                except IntegrityError:  # another replica counted its first run at the same time
                    uow.rollback()
        return earlier

    def _forget_runs(self, queue: str, event_id: str) -> None:
        try:
            with self.db.unit_of_work() as uow:
                uow.session.execute(self._clear_runs(queue, event_id))
                uow.commit()
        except Exception as exc:  # a leftover count only matters if the event keeps ending its process
            log.warning("could not clear the run count", error=f"{type(exc).__name__}: {exc}")

    # --- copies to other queues -------------------------------------------------------------

    def _publisher_for_copies(self) -> Publisher:
        if self._publisher is None:
            conn = self.bus.connection(publishing=True)
            conn.ensure_connection(max_retries=1, timeout=self.bus.connect_timeout)
            self._publisher = Publisher(self.bus, conn, retry_policy=FORWARD_RETRY_POLICY)
        return self._publisher

    def _close_publisher(self) -> None:
        if self._publisher is not None:
            # collect() drops the socket without waiting on a broker that may have stalled.
            self._publisher.conn.collect()
            self._publisher = None

    def _forward(self, message, queue: str, headers: dict, *, drop: tuple[str, ...] = ()) -> bool:
        """Publish a copy of ``message`` to ``queue``, confirmed, then ack the original; False if not sent.

        The copy goes out on the consumer's publishing connection: a confirm awaited on the
        consuming connection would run delivery callbacks inside the wait. A copy that is not
        confirmed in time leaves the original to be delivered again, never lost.
        """
        kept = {k: v for k, v in (message.headers or {}).items() if k not in drop}
        try:
            self._publisher_for_copies().publish(
                Outgoing(
                    message_id=message.properties.get("message_id") or "",
                    exchange="",
                    routing_key=queue,
                    body=_text(message.body),
                    headers={**kept, **headers},
                )
            )
        except Exception as exc:
            log.error(
                "could not forward message; it goes back to its queue", to=queue, error=f"{type(exc).__name__}: {exc}"
            )
            self._close_publisher()
            message.requeue()
            self.sleep(1.0)  # a broker refusing copies is not asked again at once
            return False
        message.ack()
        return True

    def _dead_letter(self, queue: str, message, reason: str, attempt: int) -> bool:
        log.error("dead-lettering message", reason=reason)
        sub = self.subscriptions[queue]
        if not self._forward(
            message, self.bus.topology.dead_queue(sub), {ATTEMPT_HEADER: attempt, REASON_HEADER: reason[:1000]}
        ):
            return False
        EVENTS_HANDLED.labels(queue, "dead").inc()
        return True

    # --- dead letters ---------------------------------------------------------------------

    def on_dead_message(self, queue: str, message) -> None:
        """File a dead letter of work queue ``queue`` in the database, then ack.

        A message the broker dead-lettered for its delivery limit, whose event never ended its
        consumer's process (``unfinished_runs`` under ``crash_limit``), was only prefetched beside
        the one that did: it goes back to its work queue instead, up to MAX_REDRIVES times.
        """
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(queue=queue, message_id=message.properties.get("message_id"))
        headers = message.headers or {}
        if _broker_death(headers) == ("delivery_limit", queue):
            event_id = _event_id(message.body)
            redriven = int(headers.get(REDRIVE_HEADER, 0))
            runs = self._unfinished_runs(queue, event_id)
            if runs < self.bus.topology.crash_limit and redriven < MAX_REDRIVES:
                log.warning(
                    "re-driving a message the broker dead-lettered with a crashing neighbour",
                    event_id=event_id,
                    unfinished_runs=runs,
                    redriven=redriven + 1,
                )
                if self._forward(message, queue, {REDRIVE_HEADER: redriven + 1}, drop=BROKER_HEADERS):
                    EVENTS_HANDLED.labels(queue, "redriven").inc()
                return
        while True:
            try:
                store_dead_letter(self.db, self.tables, queue, message.body, headers)
                break
            except Exception:
                if database_answers(self.db.engine):
                    raise
                if not self._wait_for_database():
                    return  # stopping: unacknowledged, the broker delivers it again
        message.ack()


def _log_fields(queue: str, message, event: Envelope | None = None) -> dict:
    """What a message's log lines say of it: its queue and message id, and its event's ids once parsed."""
    fields = {"queue": queue, "message_id": message.properties.get("message_id")}
    if event is not None:
        fields.update(correlationid=event.correlationid, event_id=event.id, event_type=event.type, tenant=event.tenant)
    return fields


def _redelivered(message) -> bool:
    """In flight when a consumer's process or connection ended (or re-driven after that)."""
    return bool(message.delivery_info.get("redelivered") or REDRIVE_HEADER in (message.headers or {}))


def _text(body) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)


def store_dead_letter(db: Database, tables: PlatformTables, queue: str, body, headers: dict) -> None:
    """File (or file again) the dead letter of ``body`` for work queue ``queue``.

    A letter is known by its event id, or, for a body that is no valid envelope, by the body's
    SHA-256: a replay publishes the same body under a new message id, and a replay that dies again
    must bring back the same letter, not file a second one.
    """
    text = _text(body)
    event_id = event_type = tenant = None
    try:
        event = parse_event(text)
        event_id, event_type, tenant = event.id, event.type, event.tenant
    except InvalidEvent:
        pass
    key = event_id or hashlib.sha256(text.encode()).hexdigest()
    reason = str(headers.get(REASON_HEADER) or _broker_reason(headers) or "dead-lettered")
    DeadLetter = tables.dead_letter
    with db.unit_of_work() as uow:
        row = uow.session.scalars(
            select(DeadLetter).where(DeadLetter.queue == queue, DeadLetter.message_key == key)
        ).first()
        if row is None:
            row = DeadLetter(queue=queue, message_key=key)
            uow.session.add(row)
        row.event_id, row.event_type, row.tenant = event_id, event_type, tenant
        row.body, row.reason, row.status = text, reason, "dead"
        row.attempts = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        row.created_at = utcnow()
        if event_id is not None:
            # A replayed letter starts over: earlier deaths of its consumer no longer count against it.
            Run = tables.unfinished_run
            uow.session.execute(delete(Run).where(Run.consumer == queue, Run.event_id == event_id))
        uow.commit()


def _event_id(body) -> str | None:
    try:
        return parse_event(_text(body)).id
    except InvalidEvent:
        return None


def _broker_death(headers: dict) -> tuple[str, str] | None:
    """(reason, queue) of the broker's latest dead-lettering of this message, if any."""
    deaths = headers.get("x-death") or []
    if not deaths:
        return None
    return str(deaths[0].get("reason")), str(deaths[0].get("queue"))


def _broker_reason(headers: dict) -> str:
    death = _broker_death(headers)
    return f"broker dead-lettered ({death[0]}) from {death[1]}" if death else ""
