"""The one kombu adapter: connections, topology declaration and confirmed, mandatory publishing.

Nothing here connects at import time; every process builds its own Bus after any fork.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from kombu import Connection, Exchange, Producer, Queue, binding

from shared.config import describe_broker
from shared.envelope import CONTENT_TYPE
from shared.messaging.filesystem import Transport as AtomicFilesystemTransport
from shared.messaging.topology import Subscription, Topology

# kombu's defaults retry forever; a bounded policy keeps a caller from hanging on a dead broker.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0}
# Seconds one publish may wait for its write and then for the broker's confirm, and one read of any
# other answer (a declare, a close) may wait. Without it a broker that stalls (a black-holed network,
# a memory alarm) holds the caller, and the outbox rows it has locked, for as long as the stall lasts.
# py-amqp applies it per socket read: a publishing connection reads nothing but confirms, returns
# and closes, so there it bounds the whole wait.
PUBLISH_TIMEOUT = 5.0


class Unroutable(Exception):
    """The broker returned a mandatory message: no queue is bound for its routing key."""


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: body is the JSON envelope, already serialised."""

    message_id: str
    exchange: str
    routing_key: str
    body: str
    headers: dict | None = None


class Bus:
    """Builds connections for one broker URL and knows how to declare the topology on it."""

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        folder: str = "",
        connect_timeout: float = 5.0,
        heartbeat: int = 30,
        publish_timeout: float = PUBLISH_TIMEOUT,
    ):
        self.url = url
        self.topology = topology
        self.folder = folder
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self.publish_timeout = publish_timeout

    @classmethod
    def from_config(cls, config, subscriptions: tuple[Subscription, ...] | None = None) -> Bus:
        kwargs = {"namespace": config.broker_namespace, "retry_delays": config.retry_delays}
        if subscriptions is not None:
            kwargs["subscriptions"] = subscriptions
        return cls(
            config.broker_url,
            Topology(**kwargs),
            folder=config.broker_folder,
            connect_timeout=config.broker_connect_timeout,
        )

    def describe(self) -> str:
        """Where messages go, for logs: never a password, never a class."""
        return describe_broker(self.url, self.folder)

    @property
    def is_rabbitmq(self) -> bool:
        return self.url.split(":", 1)[0] in {"amqp", "pyamqp", "amqps"}

    def connection(self, *, publishing: bool = False, confirm_each: bool = True) -> Connection:
        """A new, unopened connection; ``publishing`` for one that only publishes (relay, retries).

        A publishing connection has no heartbeats: nothing reads it between publishes, so the
        broker's heartbeats would go unanswered and it would be dropped while idle; a dead one is
        noticed by the next publish's timeout instead. ``confirm_each=False`` leaves the waiting for
        confirms to the caller (``BatchPublisher``) instead of every publish.
        """
        if self.is_rabbitmq:
            return Connection(
                self.url,
                connect_timeout=self.connect_timeout,
                heartbeat=0 if publishing else self.heartbeat,
                transport_options={
                    # Wait for the broker's ack on every publish: a message is only "sent" once confirmed.
                    "confirm_publish": confirm_each,
                    # Socket timeouts bound the waits that take no timeout of their own (declares,
                    # channel opens, a close to a stalled broker).
                    "read_timeout": self.publish_timeout,
                    "write_timeout": self.publish_timeout,
                },
            )
        if self.url.startswith("filesystem"):
            base = Path(self.folder)
            data, control = base / "data", base / "control"
            data.mkdir(parents=True, exist_ok=True)
            control.mkdir(parents=True, exist_ok=True)
            # One folder in and out so that separate processes see each other's messages, and a
            # control folder so exchange bindings are shared across processes too.
            return Connection(
                transport=AtomicFilesystemTransport,
                transport_options={
                    "data_folder_in": str(data),
                    "data_folder_out": str(data),
                    "control_folder": str(control),
                    "polling_interval": 0.01,
                    "store_processed": False,
                },
            )
        return Connection(self.url)

    def check(self) -> None:
        """Raise if the broker cannot be reached (readiness)."""
        with self.connection() as conn:
            conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)

    # --- topology -------------------------------------------------------------------------

    def exchanges(self) -> tuple[Exchange, Exchange]:
        t = self.topology
        return (
            Exchange(t.exchange, type="topic", durable=True),
            Exchange(t.dead_letter_exchange, type="direct", durable=True),
        )

    def work_queue(self, sub: Subscription) -> Queue:
        t = self.topology
        events, _ = self.exchanges()
        return Queue(
            t.work_queue(sub),
            bindings=[binding(events, routing_key=event_type) for event_type in sub.event_types],
            durable=True,
            queue_arguments=t.work_queue_arguments(sub) if self.is_rabbitmq else None,
        )

    def dead_queue(self, sub: Subscription) -> Queue:
        t = self.topology
        _, dlx = self.exchanges()
        return Queue(
            t.dead_queue(sub),
            exchange=dlx,
            routing_key=t.dead_queue(sub),
            durable=True,
            queue_arguments=t.dead_queue_arguments(sub) if self.is_rabbitmq else None,
        )

    def retry_queues(self, sub: Subscription) -> list[Queue]:
        if not self.is_rabbitmq:
            return []  # no TTL or dead-lettering off RabbitMQ: the consumer retries in-process
        t = self.topology
        return [
            Queue(t.retry_queue(sub, level), durable=True, queue_arguments=t.retry_queue_arguments(sub, level))
            for level in range(1, len(t.retry_delays) + 1)
        ]

    def declare(self, channel) -> None:
        """Declare every exchange, queue and binding of the topology on ``channel`` (idempotent)."""
        for exchange in self.exchanges():
            exchange(channel).declare()
        for sub in self.topology.subscriptions:
            for queue in (self.work_queue(sub), self.dead_queue(sub), *self.retry_queues(sub)):
                queue(channel).declare()


class Publisher:
    """Publishes with confirms and ``mandatory`` on one connection; raises Unroutable on a return.

    Every publish waits at most ``bus.publish_timeout`` for its write and for its confirm, then
    raises. Give it a connection of its own (``bus.connection(publishing=True)``): waiting for a
    confirm reads the whole connection, so on a connection that also consumes, the wait would run
    delivery callbacks inside it, and one confirm frame acknowledging several publishes would
    leave the outer waits for ever.

    ``retry_policy`` (kombu's ``ensure``) reconnects and publishes again after a connection error;
    None makes one attempt and leaves reconnecting to the caller.
    """

    def __init__(self, bus: Bus, conn: Connection, *, retry_policy: dict | None = PUBLISH_RETRY_POLICY):
        self.bus = bus
        self.conn = conn
        self.retry_policy = retry_policy
        self._returned: set[str] = set()
        # Only AMQP returns unroutable messages; the virtual transports have no basic.return.
        self.producer = Producer(conn.default_channel, on_return=self._on_return if bus.is_rabbitmq else None)

    def _on_return(self, exception, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id", ""))

    def publish(self, out: Outgoing) -> None:
        self.producer.publish(
            out.body,
            exchange=out.exchange,
            routing_key=out.routing_key,
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=out.message_id,
            headers=out.headers or {},
            mandatory=self.bus.is_rabbitmq,
            retry=self.retry_policy is not None,
            retry_policy=self.retry_policy,
            timeout=self.bus.publish_timeout,
            confirm_timeout=self.bus.publish_timeout,
        )
        # With confirms, a basic.return arrives before the ack, so it has been seen by now.
        if out.message_id in self._returned:
            self._returned.discard(out.message_id)
            raise Unroutable(f"no queue bound for {out.exchange!r} / {out.routing_key!r}")


@dataclass
class BatchOutcome:
    """What became of a batch: positions in it confirmed, returned unroutable, and the fault that ended it.

    A position in neither list was not published (the batch's deadline), nacked, or not confirmed
    before a fault: the caller leaves it for the next round.
    """

    confirmed: list[int] = field(default_factory=list)
    unroutable: list[int] = field(default_factory=list)
    nacked: list[int] = field(default_factory=list)
    fault: Exception | None = None


class BatchPublisher:
    """Publishes a batch, then waits once for all its confirms (RabbitMQ's publisher confirms).

    One confirm per publish costs a round trip each (about 900 messages/s locally); confirms
    awaited per batch cost one. The broker numbers a channel's publishes 1, 2, 3… after
    ``confirm.select`` and acks or nacks them by that number, one at a time or "everything up to
    n"; a ``basic.return`` (mandatory, no queue bound) comes before the ack of its message. Give
    it a connection of its own from ``bus.connection(publishing=True, confirm_each=False)``; after
    a fault, drop the connection: confirms still in flight would be counted against the next batch.
    Off RabbitMQ there are no confirms, and a publish that returns is taken as confirmed.
    """

    def __init__(self, bus: Bus, conn: Connection):
        self.bus = bus
        self.conn = conn
        channel = conn.default_channel
        self._returned: set[str] = set()
        self._waiting: dict[int, int] = {}  # delivery tag -> position in the current batch
        self._acked: list[int] = []
        self._nacked: list[int] = []
        self._last_tag = 0
        if bus.is_rabbitmq:
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
        self.producer = Producer(channel, on_return=self._on_return if bus.is_rabbitmq else None)

    def _on_return(self, exception, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id", ""))

    def _settle(self, tag: int, multiple: bool, into: list[int]) -> None:
        tags = [t for t in self._waiting if t <= tag] if multiple else [tag]
        into.extend(self._waiting.pop(t) for t in tags if t in self._waiting)

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, self._acked)

    def _on_nack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, self._nacked)

    def publish_batch(self, batch: list[Outgoing], *, deadline: float) -> BatchOutcome:
        """Publish ``batch`` in order (none starts after ``deadline``, a ``time.monotonic()``), then
        wait at most ``bus.publish_timeout`` for the confirms of all that went out."""
        self._waiting.clear()
        self._acked, self._nacked = [], []
        outcome = BatchOutcome()
        for position, out in enumerate(batch):
            if time.monotonic() > deadline:
                break  # a slow broker: settle what is confirmed and let go of the rest
            try:
                self.producer.publish(
                    out.body,
                    exchange=out.exchange,
                    routing_key=out.routing_key,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=out.message_id,
                    headers=out.headers or {},
                    mandatory=self.bus.is_rabbitmq,
                    retry=False,
                    timeout=self.bus.publish_timeout,
                )
            except Exception as exc:  # the write failed: the connection is gone, no confirm will come
                outcome.fault = exc
                break
            if self.bus.is_rabbitmq:
                self._last_tag += 1
                self._waiting[self._last_tag] = position
            else:
                self._acked.append(position)
        give_up = time.monotonic() + self.bus.publish_timeout
        while self._waiting and outcome.fault is None:
            remaining = give_up - time.monotonic()
            if remaining <= 0:
                outcome.fault = TimeoutError(f"{len(self._waiting)} publishes not confirmed in time")
                break
            try:
                self.conn.drain_events(timeout=remaining)
            except Exception as exc:  # a timeout or a lost connection: what is unconfirmed stays pending
                outcome.fault = exc
        for position in sorted(self._acked):
            if batch[position].message_id in self._returned:
                self._returned.discard(batch[position].message_id)
                outcome.unroutable.append(position)
            else:
                outcome.confirmed.append(position)
        outcome.nacked = sorted(self._nacked)
        self._waiting.clear()
        return outcome
