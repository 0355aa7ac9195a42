"""The event pipeline against its ceiling: ``python -m bench.pipeline`` (also part of ``make bench``).

The pipeline: ``BENCH_PIPELINE_EVENTS`` (2,000) ``scheduling.registration.confirmed`` events for
real registrants (cohorts of 25, each with an upcoming session known to notifications) are staged
in scheduling's outbox, 100 per transaction; scheduling's worker process (its outbox relay, as
deployed) publishes them to RabbitMQ, and notifications' worker process consumes them. "Consumer
commit" is the commit of the consumer's transaction for one event: its inbox row together with the
confirmation e-mail (text, HTML and calendar invite) written to the delivery log, which is what
makes the event handled. The sending of e-mails is measured by ``bench/notifications.py``; here the
worker's sender is idle (SEND_INTERVAL one hour). The time runs from the first staged event to the
last consumer commit.

The ceiling, in the same run, on the same broker and database: a raw pika publisher with batched
publisher confirms feeding a raw pika consumer that inserts one row per event into PostgreSQL and
commits and acks in batches, for a few publish batch sizes and prefetch counts; the fastest is kept.

Beside it, for context and not as the target, a second ceiling: a bare program doing the consumer's
job (``bench/bare_notifier.py``: raw pika and psycopg, the same e-mails, reminders and rows, batched
commits and acks), fed by the same raw publisher; the report gives the pipeline's share of both.

A run where an event is lost, handled twice, or written as two e-mails is FAILED. Everything runs
in a RabbitMQ vhost and PostgreSQL schemas of its own, dropped at the end; the schemas first get a
deployed platform's history, analysed (``_deployed_history``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import bare_notifier
from shared.testing import spare_port

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.40
COHORT_SIZE = 25
STAGE_PER_TRANSACTION = 100
# (messages per publish batch, consumer prefetch = rows per commit) tried for the ceiling.
CEILING_CONFIGS = ((100, 100), (500, 250), (1000, 500), (2000, 1000))
# Deliveries per transaction tried for the bare program doing the consumer's job (``same_job_figures``).
SAME_JOB_PREFETCH = (100, 250, 500)
# Messages per publish batch when the raw publisher feeds a consumer (``consumer``, ``same_job_figures``).
PUBLISHER_BATCH = 500
# What the schemas hold before the run, as a deployed platform's do mid-year (``_deployed_history``).
HISTORY_INBOX = 100_000
HISTORY_PEOPLE = 20_000
HISTORY_OUTBOX = 50_000
# Oldest outstanding events the observer asks the inbox about at each poll (``_until_all_handled``).
OBSERVED_PER_POLL = 200


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _vhost_url(base: str, vhost: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}/{urllib.parse.quote(vhost, safe='')}"


def _pika(url: str):
    import pika

    from shared.testing import pika_params

    return pika.BlockingConnection(pika_params(url))


def _psql(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


# --- the pipeline as deployed ------------------------------------------------------------------


def _events(count: int, starts: datetime):
    """``count`` confirmations over cohorts of COHORT_SIZE, and each cohort's upcoming session."""
    from shared.envelope import make_event

    cohorts = [str(uuid.uuid4()) for _ in range((count + COHORT_SIZE - 1) // COHORT_SIZE)]
    sessions = []
    for n, cohort in enumerate(cohorts):
        begins = starts + timedelta(hours=n % 200)
        sessions.append(
            {
                "session_id": str(uuid.uuid4()),
                "cohort_id": cohort,
                "series_id": "series",
                "title": "Session 1: Foundations of coaching",
                "format": "in_person",
                "starts_at": begins.isoformat(),
                "ends_at": (begins + timedelta(hours=3)).isoformat(),
                "time_zone": "America/Los_Angeles",
                "local_start": begins.isoformat(),
                "local_end": (begins + timedelta(hours=3)).isoformat(),
                "place": {"venue": "Fresno Training Center", "address": "1 Main St, Fresno, CA", "room": "B"},
                "meeting_url": None,
                "facilitators": [],
                "registrant_ids": [],
                "sequence": 1,
            }
        )
    events = []
    given = datetime.now(UTC)
    for n in range(count):
        person = f"person-{uuid.uuid4().hex[:12]}"
        events.append(
            make_event(
                "scheduling.registration.confirmed",
                source="/services/scheduling",
                subject=str(uuid.uuid4()),
                tenant="CA",
                data={
                    "registration_id": str(uuid.uuid4()),
                    "cohort_id": cohorts[n // COHORT_SIZE],
                    "participant": person,
                    "participant_name": f"Person {n + 1}",
                    "email": f"{person}@example.org",
                    "contact_given_at": given.isoformat(),
                    "status": "confirmed",
                    "waitlist_position": None,
                    "by": person,
                    "cohort_title": "Relationship-Based Care for Infants and Toddlers, Fresno",
                    "cohort_time_zone": "America/Los_Angeles",
                },
            )
        )
    return events, sessions


def _metric(port: int, name: str, **labels) -> float:
    """A counter from a worker's Prometheus endpoint (0 when it has not counted yet)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _wait(condition, timeout: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out waiting for {what}")


# --- where the CPU goes --------------------------------------------------------------------------


def _cpu_ticks(pid: int) -> int:
    """User and system CPU a process (all its threads) has used, in clock ticks; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _cpu_ticks_of(command: str) -> int:
    """The same for every process of this name (PostgreSQL's backends, RabbitMQ's Erlang VM)."""
    total = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() != command:
                        continue
            except OSError:
                continue
            total += _cpu_ticks(int(entry))
    return total


def _cpu_snapshot(processes: dict[str, int]) -> dict[str, int]:
    """CPU ticks of the named processes, of PostgreSQL and RabbitMQ, and of this program (empty off Linux)."""
    if not os.path.isdir("/proc"):
        return {}
    return {
        **{name: _cpu_ticks(pid) for name, pid in processes.items()},
        "PostgreSQL": _cpu_ticks_of("postgres"),
        "RabbitMQ": _cpu_ticks_of("beam.smp"),
        "this program": _cpu_ticks(os.getpid()),
    }


def _machine_ticks() -> tuple[int, int]:
    """(all CPU ticks, ticks stolen by other guests of the host) of the machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(f) for f in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(fields[:8]), fields[7]


def _stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The share of the machine's CPU time another guest of the host took between two readings."""
    total = after[0] - before[0]
    return round((after[1] - before[1]) / total, 3) if total > 0 else None


def _cpu_per_event(before: dict[str, int], after: dict[str, int], count: int) -> dict[str, float]:
    """Milliseconds of CPU per event each part spent between two snapshots."""
    tick = 1000.0 / os.sysconf("SC_CLK_TCK")
    return {name: round((after[name] - before[name]) * tick / count, 3) for name in before}


def pipeline_figures(count: int, broker_url: str, database_url: str, run: str, *, source: str = "relay") -> dict:
    """Stage ``count`` events in scheduling's outbox; time them to the last commit of notifications' consumer.

    ``source="publisher"`` leaves the outbox and the relay out: the ceiling's raw publisher (batched
    confirms) puts the events straight on the consumer's work queue, so that the figure is the
    consumer's own (``python -m bench.pipeline consumer``).
    """
    from sqlalchemy import insert

    from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS
    from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING
    from services.scheduling.models import platform as scheduling_tables
    from shared.db import Database
    from shared.messaging.bus import Bus
    from shared.messaging.outbox import outbox_values
    from shared.messaging.topology import Topology
    from shared.migrations import upgrade

    s_schema, n_schema = f"bench_pipeline_{run}_scheduling", f"bench_pipeline_{run}_notifications"
    upgrade(SCHEDULING, database_url, s_schema)
    upgrade(NOTIFICATIONS, database_url, n_schema)
    starts = (datetime.now(UTC) + timedelta(days=9)).replace(minute=0, second=0, microsecond=0)
    warmup, _ = _events(1, starts)
    events, sessions = _events(count, starts)
    warm_cohort = warmup[0].data["cohort_id"]
    notifications_db = Database(database_url, schema=n_schema)
    _known_sessions(
        notifications_db, [*sessions, {**sessions[0], "session_id": str(uuid.uuid4()), "cohort_id": warm_cohort}]
    )
    queue = next(
        Topology().work_queue(sub) for sub in Topology().for_consumer("notifications") if sub.handler == "notify"
    )
    _deployed_history(database_url, s_schema, n_schema, queue)
    metrics_port = spare_port()
    common = {
        **os.environ,
        "BROKER_URL": broker_url,
        "BROKER_FOLDER": "",
        "BROKER_NAMESPACE": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    notifications_env = {
        **common,
        "NOTIFICATIONS_DATABASE_URL": database_url,
        "NOTIFICATIONS_DB_SCHEMA": n_schema,
        "SEND_INTERVAL": "3600",
        "SMTP_PORT": str(spare_port()),
        # As deployed, and as the bare program does: each e-mail carries its reader's unsubscribe link.
        "UNSUBSCRIBE_SECRET": bare_notifier.UNSUBSCRIBE_SECRET,
        "NOTIFICATIONS_PUBLIC_URL": bare_notifier.PUBLIC_URL,
        "WORKER_METRICS_PORT": str(metrics_port),
    }
    scheduling_env = {**common, "SCHEDULING_DATABASE_URL": database_url, "SCHEDULING_DB_SCHEMA": s_schema}
    scheduling_db = Database(database_url, schema=s_schema)
    Outbox = scheduling_tables.outbox
    workers = []
    admin = _pika(broker_url)
    pg = _psql(database_url)
    handled_sql = f"SELECT event_id FROM {n_schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)"

    def stage(batch) -> None:
        with scheduling_db.unit_of_work() as uow:
            uow.session.execute(insert(Outbox), [outbox_values(e) for e in batch])
            uow.commit()

    try:
        # The topology first: waiting for the consumer asks the broker for its queue, and asking for
        # a queue not yet declared fails the channel (pika logs a NOT_FOUND each time) until the
        # worker has declared it. Declared as the workers declare it, so theirs are no-ops.
        bus = Bus(broker_url, Topology())
        with bus.connection() as conn:
            bus.declare(conn.default_channel)
        for module, env in (
            ("services.notifications.worker", notifications_env),
            *((("services.scheduling.worker", scheduling_env),) if source == "relay" else ()),
        ):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr
                )
            )
        _wait(
            lambda: _consumers(admin, queue),
            60,
            "notifications' consumer",
        )
        # One event through the whole pipeline first: both processes connected, caches warm.
        bodies = [e.to_json().encode() for e in events] if source == "publisher" else []
        if source == "relay":
            stage(warmup)
        else:
            _publish_with_batched_confirms(broker_url, queue, [warmup[0].to_json().encode()], 1)
        if not _until_all_handled(pg, handled_sql, queue, [warmup[0].id], timeout=60):
            raise RuntimeError("timed out waiting for the warm-up event")
        load = os.getloadavg()
        processes = {"consumer (notifications' worker)": workers[0].pid}
        if source == "relay":
            processes["relay (scheduling's worker)"] = workers[1].pid
        cpu_before, machine_before = _cpu_snapshot(processes), _machine_ticks()
        started_wall = datetime.now(UTC)
        started = time.perf_counter()
        if source == "relay":
            for at in range(0, count, STAGE_PER_TRANSACTION):
                stage(events[at : at + STAGE_PER_TRANSACTION])
        else:
            _publish_with_batched_confirms(broker_url, queue, bodies, PUBLISHER_BATCH)
        staged = time.perf_counter() - started
        _until_all_handled(pg, handled_sql, queue, [e.id for e in events], timeout=900)
        seconds = time.perf_counter() - started
        cpu = _cpu_per_event(cpu_before, _cpu_snapshot(processes), count)
        stolen = _stolen_share(machine_before, _machine_ticks())
        time.sleep(1.0)  # anything delivered twice arrives now
        duplicates = _metric(metrics_port, "events_handled_total", queue=queue, outcome="duplicate")
        ids = [e.id for e in events]
        inbox = pg.execute(
            f"SELECT count(*) FROM {n_schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)", (queue, ids)
        ).fetchone()[0]
        emails = dict(
            pg.execute(
                f"SELECT event_id, count(*) FROM {n_schema}.deliveries WHERE event_id = ANY(%s) "
                "AND channel = 'email' GROUP BY event_id",
                (ids,),
            ).fetchall()
        )
        last_sent = pg.execute(f"SELECT max(sent_at) FROM {s_schema}.outbox").fetchone()[0]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
        admin.close()
        scheduling_db.dispose()
        notifications_db.dispose()
        pg.execute(f"DROP SCHEMA IF EXISTS {s_schema} CASCADE")
        pg.execute(f"DROP SCHEMA IF EXISTS {n_schema} CASCADE")
        pg.close()
    relay_seconds = (last_sent.replace(tzinfo=UTC) - started_wall).total_seconds() if last_sent else None
    return {
        "events": count,
        "seconds": round(seconds, 3),
        "per_second": round(count / seconds, 1),
        "staged_seconds": round(staged, 3),
        "relay_seconds": round(relay_seconds, 3) if relay_seconds else None,
        "relay_per_second": round(count / relay_seconds, 1) if relay_seconds else None,
        "lost": count - inbox,
        "duplicated": int(duplicates) + sum(1 for n in emails.values() if n > 1),
        "without_email": count - len(emails),
        "load_average": load,
        "cpu_ms_per_event": cpu,
        "cpu_stolen_share": stolen,
    }


def _known_sessions(notifications_db, sessions: list[dict]) -> None:
    """Tell notifications' database of the cohorts' sessions, as scheduling's session events would have."""
    from services.notifications.models import KnownSession

    with notifications_db.unit_of_work() as uow:
        for data in sessions:
            uow.session.add(
                KnownSession(
                    session_id=data["session_id"],
                    tenant="CA",
                    cohort_id=data["cohort_id"],
                    sequence=1,
                    starts_at=datetime.fromisoformat(data["starts_at"]),
                    data=data,
                )
            )
        uow.commit()


def _until_all_handled(pg, sql: str, consumer: str, ids: list[str], *, timeout: float) -> bool:
    """Whether every id reached the inbox within ``timeout``; asked so as to load the database under test lightly.

    Counting the queue's inbox rows every 10 ms read them all each time, history included, and
    charged that to the pipeline; events are handled about in the order they were staged, so asking
    for the oldest outstanding ones (by key) is enough.
    """
    outstanding = list(ids)
    deadline = time.monotonic() + timeout
    while outstanding and time.monotonic() < deadline:
        probe = outstanding[:OBSERVED_PER_POLL]
        seen = {row[0] for row in pg.execute(sql, (consumer, probe)).fetchall()}
        if seen:
            outstanding = [i for i in probe if i not in seen] + outstanding[OBSERVED_PER_POLL:]
        if outstanding:
            time.sleep(0.01)
    return not outstanding


def _deployed_history(database_url: str, s_schema: str | None, n_schema: str, queue: str) -> None:
    """Give the fresh schemas (scheduling's, unless None, and notifications') what a deployed platform's hold mid-year, with the statistics autovacuum keeps.

    Fresh tables have no statistics: the planner takes each for a handful of rows and looks a batch's
    people or event ids up by scanning all of a state's rows (an inbox or contact point lookup read
    every row so far for each batch: about half of PostgreSQL's CPU in a run of 8,000). A deployed database
    has its history, analysed: HISTORY_INBOX handled events (30 days are kept), HISTORY_PEOPLE of
    the state's contact points, HISTORY_OUTBOX sent events (7 days are kept).
    """
    old = datetime.now(UTC) - timedelta(days=3)
    with _psql(database_url) as pg:
        with pg.cursor().copy(f"COPY {n_schema}.inbox (consumer, event_id, event_type, handled_at) FROM STDIN") as copy:
            for _ in range(HISTORY_INBOX):
                copy.write_row((queue, str(uuid.uuid4()), "scheduling.registration.confirmed", old))
        columns = "id, tenant, person, email, language, created_at, updated_at, change"
        with pg.cursor().copy(f"COPY {n_schema}.contact_points ({columns}) FROM STDIN") as copy:
            for n in range(HISTORY_PEOPLE):
                person = f"person-{uuid.uuid4().hex[:12]}"
                copy.write_row((str(uuid.uuid4()), "CA", person, f"{person}@example.org", "en", old, old, n + 1))
        columns = "message_id, event_type, exchange, routing_key, body, status, attempts, created_at, sent_at"
        if s_schema:
            with pg.cursor().copy(f"COPY {s_schema}.outbox ({columns}) FROM STDIN") as copy:
                for _ in range(HISTORY_OUTBOX):
                    event_type = "scheduling.registration.confirmed"
                    copy.write_row((str(uuid.uuid4()), event_type, "events", event_type, "{}", "sent", 1, old, old))
        tables = pg.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN (%s, %s)", (n_schema, s_schema or n_schema)
        ).fetchall()
        for schema, table in tables:
            pg.execute(f"ANALYZE {schema}.{table}")


def _consumers(connection, queue: str) -> int:
    channel = connection.channel()  # a failed passive declare closes its channel: one each time
    try:
        return channel.queue_declare(queue, passive=True).method.consumer_count
    except Exception:  # noqa: BLE001 - not declared yet
        return 0
    finally:
        if channel.is_open:
            channel.close()


# --- the ceiling -------------------------------------------------------------------------------


def _publish_with_batched_confirms(url: str, queue: str, bodies: list[bytes], batch: int) -> None:
    """Publish ``bodies`` in batches, each batch's confirms awaited before the next (pika's own loop)."""
    import pika

    from shared.testing import pika_params

    state = {"next": 0, "outstanding": 0, "acked": 0, "nacked": 0}

    def publish_batch(channel):
        end = min(state["next"] + batch, len(bodies))
        properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        for body in bodies[state["next"] : end]:
            channel.basic_publish("", queue, body, properties, mandatory=True)
        state["outstanding"] = end - state["next"]
        state["next"] = end

    def on_confirm(frame, channel, connection):
        method = frame.method
        acked = method.delivery_tag - state["acked"] - state["nacked"] if method.multiple else 1
        key = "acked" if isinstance(method, pika.spec.Basic.Ack) else "nacked"
        state[key] += acked
        state["outstanding"] -= acked
        if state["outstanding"] == 0:
            if state["next"] < len(bodies):
                publish_batch(channel)
            else:
                connection.close()

    def on_channel(channel, connection):
        channel.confirm_delivery(lambda frame: on_confirm(frame, channel, connection))
        publish_batch(channel)

    connection = pika.SelectConnection(
        pika_params(url),
        on_open_callback=lambda c: c.channel(on_open_callback=lambda ch: on_channel(ch, c)),
        on_close_callback=lambda c, reason: c.ioloop.stop(),
    )
    connection.ioloop.start()
    if state["nacked"] or state["acked"] != len(bodies):
        raise RuntimeError(f"the ceiling's publisher: {state}")


def _timed_consumer(module: list[str], publish, until_done, count: int) -> tuple[float, dict[str, float]]:
    """Start a bare consumer (``python -m`` ``module``), time ``publish`` until ``until_done``; its CPU per event.

    It is stopped half a second after the last event, so that a late duplicate still lands to be counted.
    """
    consumer = subprocess.Popen(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        consumer.stdout.readline()  # "ready"
        processes = {"consumer": consumer.pid}
        cpu_before = _cpu_snapshot(processes)
        started = time.perf_counter()
        publish()
        until_done()
        seconds = time.perf_counter() - started
        cpu = _cpu_per_event(cpu_before, _cpu_snapshot(processes), count)
        time.sleep(0.5)
    finally:
        consumer.terminate()
        consumer.wait(10)
    return seconds, cpu


def ceiling_figures(count: int, broker_url: str, database_url: str, run: str) -> dict:
    """The raw pipeline for each configuration of CEILING_CONFIGS; every one checked, the fastest kept."""

    schema = f"bench_pipeline_{run}_ceiling"
    pg = _psql(database_url)
    pg.execute(f"CREATE SCHEMA {schema}")
    table = f"{schema}.handled"
    pg.execute(f"CREATE TABLE {table} (event_id varchar(100) NOT NULL)")
    events, _ = _events(count, datetime.now(UTC) + timedelta(days=9))
    bodies = [e.to_json().encode() for e in events]
    ids = {e.id for e in events}
    admin = _pika(broker_url)
    channel = admin.channel()
    trials = []
    try:
        for batch, prefetch in CEILING_CONFIGS:
            queue = f"ceiling.{batch}.{prefetch}"
            channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
            pg.execute(f"TRUNCATE {table}")

            def until_all_rows() -> None:
                deadline = time.monotonic() + 300
                while pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0] < count:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)

            seconds, cpu = _timed_consumer(
                ["bench.bare_consumer", broker_url, _dsn(database_url), queue, table, str(prefetch)],
                lambda: _publish_with_batched_confirms(broker_url, queue, bodies, batch),
                until_all_rows,
                count,
            )
            rows = [r[0] for r in pg.execute(f"SELECT event_id FROM {table}").fetchall()]
            channel.queue_delete(queue)
            trials.append(
                {
                    "publish_batch": batch,
                    "prefetch": prefetch,
                    "seconds": round(seconds, 3),
                    "per_second": round(count / seconds, 1),
                    "lost": len(ids - set(rows)),
                    "duplicated": len(rows) - len(set(rows)),
                    "cpu_ms_per_event": cpu,
                }
            )
    finally:
        admin.close()
        pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        pg.close()
    sound = [t for t in trials if not t["lost"] and not t["duplicated"]]
    best = max(sound or trials, key=lambda t: t["per_second"])
    return {**best, "trials": trials, "broken_trials": len(trials) - len(sound)}


def same_job_figures(count: int, broker_url: str, database_url: str, run: str) -> dict:
    """``bench.bare_notifier`` fed by the raw publisher, for each prefetch of SAME_JOB_PREFETCH; the fastest kept.

    Each trial has events and sessions of its own, in one schema of notifications' tables holding
    the deployed history; every trial's events are checked for one inbox row and one e-mail each.
    """
    from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS
    from shared.db import Database
    from shared.migrations import upgrade

    schema = f"bench_pipeline_{run}_bare"
    upgrade(NOTIFICATIONS, database_url, schema)
    queue = "notifications.bare"
    _deployed_history(database_url, None, schema, queue)
    db = Database(database_url, schema=schema)
    pg = _psql(database_url)
    admin = _pika(broker_url)
    channel = admin.channel()
    trials = []
    try:
        for prefetch in SAME_JOB_PREFETCH:
            events, sessions = _events(count, datetime.now(UTC) + timedelta(days=9))
            _known_sessions(db, sessions)
            bodies = [e.to_json().encode() for e in events]
            ids = [e.id for e in events]
            channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
            sql = f"SELECT event_id FROM {schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)"
            seconds, cpu = _timed_consumer(
                ["bench.bare_notifier", broker_url, _dsn(database_url), queue, schema, str(prefetch)],
                lambda: _publish_with_batched_confirms(broker_url, queue, bodies, PUBLISHER_BATCH),
                lambda: _until_all_handled(pg, sql, queue, ids, timeout=300),
                count,
            )
            channel.queue_delete(queue)
            inbox = pg.execute(
                f"SELECT count(*) FROM {schema}.inbox WHERE consumer = %s AND event_id = ANY(%s)", (queue, ids)
            ).fetchone()[0]
            emails = dict(
                pg.execute(
                    f"SELECT event_id, count(*) FROM {schema}.deliveries WHERE event_id = ANY(%s) GROUP BY event_id",
                    (ids,),
                ).fetchall()
            )
            trials.append(
                {
                    "prefetch": prefetch,
                    "seconds": round(seconds, 3),
                    "per_second": round(count / seconds, 1),
                    "lost": count - inbox,
                    "duplicated": sum(1 for n in emails.values() if n > 1),
                    "without_email": count - len(emails),
                    "cpu_ms_per_event": cpu,
                }
            )
    finally:
        admin.close()
        db.dispose()
        pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        pg.close()
    sound = [t for t in trials if not t["lost"] and not t["duplicated"] and not t["without_email"]]
    best = max(sound or trials, key=lambda t: t["per_second"])
    return {**best, "trials": trials, "broken_trials": len(trials) - len(sound)}


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# --- the run -----------------------------------------------------------------------------------


@contextmanager
def _own_vhost() -> Iterator[tuple[str, str]]:
    """(broker URL, run name): a RabbitMQ vhost of the run's own, deleted at the end; the name is its schemas'."""
    from shared.testing import RABBITMQ_URL

    run = uuid.uuid4().hex[:8]
    vhost = f"bench-pipeline-{run}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, _user(RABBITMQ_URL), ".*", ".*", ".*")
        yield _vhost_url(RABBITMQ_URL, vhost), run
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def figures() -> dict:
    from shared.testing import POSTGRES_URL

    count = int(os.environ.get("BENCH_PIPELINE_EVENTS", "2000"))
    with _own_vhost() as (broker_url, run):
        pipeline = pipeline_figures(count, broker_url, POSTGRES_URL, run)
        ceiling = ceiling_figures(count, broker_url, POSTGRES_URL, run)
        same_job = same_job_figures(count, broker_url, POSTGRES_URL, run)
    return {
        "load_average": os.getloadavg(),
        "cores": os.cpu_count(),
        "pipeline": pipeline,
        "ceiling": ceiling,
        "ratio": round(pipeline["per_second"] / ceiling["per_second"], 3),
        "same_job": same_job,
        "ratio_to_same_job": round(pipeline["per_second"] / same_job["per_second"], 3),
    }


def _user(url: str) -> str:
    return urllib.parse.urlsplit(url).username or "guest"


def verdicts(result: dict) -> list[dict]:
    p, c = result["pipeline"], result["ceiling"]
    b = result.get("same_job") or {"lost": 0, "duplicated": 0, "without_email": 0}
    broken = p["lost"] or p["duplicated"] or p["without_email"] or c["lost"] or c["duplicated"]
    broken = broken or b["lost"] or b["duplicated"] or b["without_email"]
    verdict = "FAILED" if broken else ("PASS" if result["ratio"] >= TARGET else "MISS")
    detail = (
        f"{result['ratio']:.1%} of its ceiling (target {TARGET:.0%}); lost {p['lost']}, duplicated {p['duplicated']}, "
        f"without e-mail {p['without_email']}; ceiling lost {c['lost']}, duplicated {c['duplicated']}"
    )
    return [{"name": "event pipeline", "verdict": verdict, "detail": detail}]


def report(result: dict) -> None:
    p, c = result["pipeline"], result["ceiling"]
    print("\nEvent pipeline (figures from a shared, loaded machine; load average", result["load_average"], ")")
    print(
        f"  outbox -> relay -> RabbitMQ -> notifications' consumer commit: {p['events']} events in {p['seconds']} s "
        f"({p['per_second']}/s; staged in {p['staged_seconds']} s, all confirmed by the relay after "
        f"{p['relay_seconds']} s, {p['relay_per_second']}/s)"
    )
    print(
        f"  ceiling (raw pika, batched confirms -> batched commits and acks): {c['per_second']}/s, "
        f"kept publish batch {c['publish_batch']}, prefetch {c['prefetch']}; tried "
        + ", ".join(f"{t['publish_batch']}/{t['prefetch']}: {t['per_second']}/s" for t in c["trials"])
    )
    if result.get("same_job"):
        # Context, not the target: what the consumer's own work costs when nothing but it is done.
        b = result["same_job"]
        print(
            f"  a bare program doing the consumer's job (bench/bare_notifier.py: raw pika and psycopg, the same "
            f"e-mails, reminders and rows, batched commits and acks): {b['per_second']}/s "
            f"({b['per_second'] / c['per_second']:.1%} of the ceiling above), kept prefetch {b['prefetch']}; "
            f"tried "
            + ", ".join(f"{t['prefetch']}: {t['per_second']}/s" for t in b["trials"])
            + f"; the pipeline reaches {result['ratio_to_same_job']:.1%} of it; CPU per event, ms: "
            + ", ".join(f"{name} {ms:.3f}" for name, ms in b["cpu_ms_per_event"].items())
            + f"; lost {b['lost']}, duplicated {b['duplicated']}, without e-mail {b['without_email']}"
        )
    if p.get("cpu_ms_per_event"):
        # The budget: at the target rate, every process of the pipeline together may use at most the
        # machine's cores; what each spends per event says which one keeps the pipeline from it.
        budget = result["cores"] * 1000.0 / (TARGET * c["per_second"])
        spent = sum(p["cpu_ms_per_event"].values())
        print(
            f"  CPU per event, ms: pipeline {spent:.3f} ("
            + ", ".join(f"{name} {ms:.3f}" for name, ms in p["cpu_ms_per_event"].items())
            + f"); ceiling {sum(c['cpu_ms_per_event'].values()):.3f} ("
            + ", ".join(f"{name} {ms:.3f}" for name, ms in c["cpu_ms_per_event"].items())
            + f"); at {TARGET:.0%} of the ceiling on {result['cores']} cores the pipeline may spend {budget:.3f}"
        )
    if p.get("cpu_stolen_share") is not None:
        # On a shared host every figure above swings with it: read them together.
        print(
            f"  CPU time taken by other guests of the host while the pipeline ran (steal): {p['cpu_stolen_share']:.1%}"
        )
    for verdict in verdicts(result):
        print(f"  {verdict['verdict']:<6} {verdict['name']}: {verdict['detail']}")


def consumer_alone() -> dict:
    """Notifications' consumer fed by the raw publisher, in a vhost and schemas of its own."""
    from shared.testing import POSTGRES_URL

    count = int(os.environ.get("BENCH_PIPELINE_EVENTS", "2000"))
    with _own_vhost() as (broker_url, run):
        return pipeline_figures(count, broker_url, POSTGRES_URL, run, source="publisher")


def main() -> int:
    if sys.argv[1:] == ["consumer"]:
        # A diagnosis, not a target: the consumer's own rate and CPU, without the outbox and relay.
        alone = consumer_alone()
        print(
            f"notifications' consumer fed by a raw publisher: {alone['events']} events in {alone['seconds']} s "
            f"({alone['per_second']}/s); CPU per event, ms: "
            + ", ".join(f"{name} {ms:.3f}" for name, ms in alone["cpu_ms_per_event"].items())
            + f"; steal {alone['cpu_stolen_share']:.1%}; lost {alone['lost']}, duplicated {alone['duplicated']}, "
            f"without e-mail {alone['without_email']}"
        )
        print(json.dumps(alone, default=str))
        return 1 if alone["lost"] or alone["duplicated"] or alone["without_email"] else 0
    result = figures()
    report(result)
    print(json.dumps(result, default=str))
    return 1 if any(v["verdict"] == "FAILED" for v in verdicts(result)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
