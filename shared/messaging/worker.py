"""A service's worker process: the outbox relay and, if the service consumes events, its consumer."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from prometheus_client import start_http_server

from shared.config import env_int
from shared.context import ServiceContext
from shared.housekeeping import prune
from shared.logging import configure_logging, get_logger
from shared.messaging.consumer import BatchHandler, EventConsumer, Handler
from shared.messaging.outbox import OutboxRelay

log = get_logger("worker")


def run_worker(
    ctx: ServiceContext,
    handlers: dict[str, Handler],
    *,
    periodic: dict[str, tuple[float, Callable[[], object]]] | None = None,
    batch_handlers: dict[str, BatchHandler] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT; each loop reconnects by itself when the broker or database returns.

    ``periodic`` names jobs to run every so many seconds (``{name: (seconds, job)}``), each in its own
    thread; a failing run is logged and the next one comes at its time. Every worker also prunes its
    service's messaging and idempotency tables (``shared.housekeeping``). ``batch_handlers`` are
    given a batch's events at once when ``consumer_batch_size`` is above 1.
    """
    config = ctx.config
    configure_logging(config.log_level)
    bus = ctx.extra["bus"]
    relay = OutboxRelay(
        ctx.db, ctx.tables, bus, batch_size=config.relay_batch_size, poll_interval=config.relay_poll_interval
    )
    threads = [threading.Thread(target=relay.run, name="outbox-relay", daemon=True)]
    consumer = None
    if bus.topology.for_consumer(config.service):
        consumer = EventConsumer(
            bus,
            ctx.db,
            ctx.tables,
            config.service,
            handlers,
            prefetch=config.broker_prefetch,
            batch_size=config.consumer_batch_size,
            batch_handlers=batch_handlers,
        )
        threads.append(threading.Thread(target=consumer.run, name="consumer", daemon=True))
    metrics_port = env_int("WORKER_METRICS_PORT", 0, minimum=0)
    if metrics_port:
        # The worker serves no HTTP otherwise; this lets Prometheus scrape relay and consumer counters.
        start_http_server(metrics_port)
    stopped = threading.Event()
    periodic = {
        "housekeeping": (config.housekeeping_interval_seconds, lambda: prune(ctx.db, ctx.tables, config)),
        **(periodic or {}),
    }
    for name, (seconds, job) in periodic.items():
        threads.append(
            threading.Thread(target=run_periodically, args=(name, seconds, job, stopped), name=name, daemon=True)
        )

    def stop(signum, _frame):
        log.info("worker stopping", signal=signum)
        relay.stop()
        if consumer is not None:
            consumer.stop()
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for thread in threads:
        thread.start()
    log.info("worker started", service=config.service, consumes=bool(consumer))
    stopped.wait()
    for thread in threads:
        thread.join(timeout=10)


def run_periodically(name: str, seconds: float, job: Callable[[], object], stopped: threading.Event) -> None:
    """Run ``job`` every ``seconds`` until ``stopped`` is set."""
    while not stopped.wait(seconds):
        try:
            job()
        except Exception:  # the database may be away: try again next time
            log.exception("periodic job failed", job=name)
