"""A service's worker process: the outbox relay, the consumer (if the service consumes events) and the
scheduled jobs, all of them or those named on the command line.

``python -m services.<service>.worker`` runs every part in one process (``make run``, the embedded
default); ``python -m services.<service>.worker consumer`` (or ``relay``, or ``jobs``) runs one part, so
that a cluster scales each on its own: consumers on queue depth, relays and jobs at fixed counts.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

from prometheus_client import start_http_server

from shared.config import env_int
from shared.context import ServiceContext
from shared.housekeeping import prune
from shared.logging import configure_logging, get_logger
from shared.messaging.consumer import BatchHandler, EventConsumer, Handler
from shared.messaging.outbox import OutboxRelay

log = get_logger("worker")

# The parts of a worker, as named on its command line.
ROLES = ("consumer", "relay", "jobs")
# How long a stopping worker waits, in all, for its parts to finish what they hold: below the 30 s a
# container is given between SIGTERM and SIGKILL, so the handler in progress commits and is acked.
STOP_SECONDS = 25.0


class UsageError(SystemExit):
    """A worker command line naming no known part."""


def roles_from(argv: Sequence[str]) -> tuple[str, ...]:
    """The parts a command line asks for (every part when it names none)."""
    unknown = [arg for arg in argv if arg not in ROLES]
    if unknown:
        raise UsageError(f"unknown worker part(s) {unknown}: name any of {', '.join(ROLES)}, or none for all")
    return tuple(role for role in ROLES if role in argv) or ROLES


def run_worker(
    ctx: ServiceContext,
    handlers: dict[str, Handler],
    *,
    periodic: dict[str, tuple[float, Callable[[], object]]] | None = None,
    batch_handlers: dict[str, BatchHandler] | None = None,
    argv: Sequence[str] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT; each loop reconnects by itself when the broker or database returns.

    ``periodic`` names jobs to run every so many seconds (``{name: (seconds, job)}``), each in its own
    thread; a failing run is logged and the next one comes at its time. Every worker's jobs also prune
    its service's messaging and idempotency tables (``shared.housekeeping``). ``argv`` (the command
    line's arguments by default) names the parts to run: ``consumer``, ``relay``, ``jobs``, or none for all.
    ``batch_handlers`` are given a batch's events at once when ``consumer_batch_size`` is above 1.

    On SIGTERM the consumer finishes the message in hand (commit, then ack) and takes no other; the
    messages the broker had sent ahead go back to the queue unacknowledged when its channel closes. The
    relay ends after the batch it is publishing.
    """
    roles = roles_from(sys.argv[1:] if argv is None else argv)
    config = ctx.config
    configure_logging(config.log_level)
    bus = ctx.extra["bus"]
    stoppers: list[Callable[[], None]] = []
    threads: list[threading.Thread] = []
    if "relay" in roles:
        relay = OutboxRelay(
            ctx.db, ctx.tables, bus, batch_size=config.relay_batch_size, poll_interval=config.relay_poll_interval
        )
        threads.append(threading.Thread(target=relay.run, name="outbox-relay", daemon=True))
        stoppers.append(relay.stop)
    consumes = bool(bus.topology.for_consumer(config.service))
    if "consumer" in roles and consumes:
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
        stoppers.append(consumer.stop)
    elif roles == ("consumer",):
        log.warning("worker has nothing to consume", service=config.service)
    stopped = threading.Event()
    if "jobs" in roles:
        jobs = {
            "housekeeping": (config.housekeeping_interval_seconds, lambda: prune(ctx.db, ctx.tables, config)),
            **(periodic or {}),
        }
        for name, (seconds, job) in jobs.items():
            threads.append(
                threading.Thread(target=run_periodically, args=(name, seconds, job, stopped), name=name, daemon=True)
            )
    metrics_port = env_int("WORKER_METRICS_PORT", 0, minimum=0)
    if metrics_port:
        # The worker serves no HTTP otherwise; this lets Prometheus scrape relay and consumer counters.
        start_http_server(metrics_port)

    def stop(signum, _frame):
        log.info("worker stopping", signal=signum)
        for stopper in stoppers:
            stopper()
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for thread in threads:
        thread.start()
    log.info("worker started", service=config.service, parts=list(roles), consumes=consumes)
    wait_for_stop(stopped)
    # One deadline for every part, not one each: several parts waited for in turn could outlast the
    # container's grace period, and the kill would come in the middle of a handler.
    deadline = time.monotonic() + STOP_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    unfinished = [thread.name for thread in threads if thread.is_alive()]
    if unfinished:
        # What they held is not lost: an unacked message is delivered again, an unmarked outbox row sent again.
        log.warning("worker stopped with parts still running", parts=unfinished)
    log.info("worker stopped", service=config.service)


def wait_for_stop(stopped: threading.Event) -> None:
    """Block the main thread until ``stopped``, waking now and then.

    Python runs signal handlers in the main thread only, and a SIGTERM the kernel hands to another of
    the process's threads does not interrupt a main thread blocked in ``Event.wait()`` without a
    timeout: the handler would wait, and Kubernetes would kill the process after its grace period.
    """
    while not stopped.wait(0.5):
        pass


def run_periodically(name: str, seconds: float, job: Callable[[], object], stopped: threading.Event) -> None:
    """Run ``job`` every ``seconds`` until ``stopped`` is set."""
    while not stopped.wait(seconds):
        try:
            job()
        except Exception:  # the database may be away: try again next time
            log.exception("periodic job failed", job=name)
