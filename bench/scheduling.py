"""Scheduling's figures: registrations against the commit ceiling, the session list against the bare
ceiling (and its p99 at half load), and the conflict check's growth when the sessions double.

The registrations and their ceiling run the same way: CONTENDERS client threads with a connection
each, spread over one process per CPU (BENCH_CLIENT_PROCESSES), released together. The registering
threads call the service's own ``registrations.register``, as the threads of the scheduling API's
workers do: within a process, those that arrive together are written together (its group commit).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bench.load import measure_interleaved, process_tree, rss_mb, run_paced

CONTENDERS = 50
REGISTRATIONS = int(os.environ.get("BENCH_REGISTRATIONS", "2000"))
SEATS = int(os.environ.get("BENCH_SEATS", "500"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "100000"))
TARGETS = {"registrations": 0.50, "session_list": 0.50, "p99_ms": 50.0, "conflict_growth": 2.2}


def _ceiling_client(db, i: int, job: dict) -> int:
    """Single-row commits on one connection until the deadline."""
    done = 0
    with db.engine.connect() as conn:
        while time.monotonic() < job["deadline"]:
            conn.execute(text("INSERT INTO bench_commits (n) VALUES (:n)"), {"n": i})
            conn.commit()
            done += 1
    return done


def _registering_client(db, i: int, job: dict) -> int:
    """``job["each"]`` people registering for the cohort one after another, each in a unit of work."""
    from shared.auth import PARTICIPANT, Principal

    from services.scheduling import registrations

    for k in range(job["each"]):
        n = i * job["each"] + k
        who = Principal(sub=f"bench-{n}", tenant="CA", roles=frozenset({PARTICIPANT}))
        with db.unit_of_work() as uow:
            registrations.register(job["cohort_id"], {"name": f"Person {n}", "email": f"p{n}@example.org"}, uow, who)
    return job["each"]


_CLIENTS = {"ceiling": _ceiling_client, "registering": _registering_client}


def _server_cpu_seconds(db) -> float | None:
    """CPU seconds the database server has spent so far; None if it runs where /proc cannot see it.

    Every process of the server (the postmaster's children, and through the postmaster's own
    counters, those that have ended, such as a backend closed by the pool meanwhile).
    """
    try:
        with db.engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()

        def stat(pid: int) -> list[str]:
            with open(f"/proc/{pid}/stat") as file:
                return file.read().rsplit(")", 1)[1].split()

        postmaster = int(stat(backend)[1])
        ticks = sum(int(v) for v in stat(postmaster)[11:15])  # its own and its ended children's
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    fields = stat(int(pid))
                except OSError:
                    continue
                if int(fields[1]) == postmaster:
                    ticks += int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def _client_process(kind: str, job: dict, first: int, count: int, start, results) -> None:
    """``count`` client threads with their own connections, released together with every other process's.

    Reports what was done, when it ended, the errors, and the CPU seconds spent by this process
    (the clients).
    """
    from shared.db import Database

    db = Database(job["url"], schema=job["schema"], pool_size=count)
    warm = [db.engine.connect() for _ in range(count)]  # connections open before the clock starts
    for conn in warm:
        conn.close()
    ready = threading.Barrier(count + 1)
    done, errors = [0] * count, []

    def run(k):
        ready.wait()
        try:
            done[k] = _CLIENTS[kind](db, first + k, job)
        except Exception as exc:  # reported to the parent: a benchmark with errors is not a figure
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    client_cpu = time.process_time()
    ready.wait()
    for thread in threads:
        thread.join()
    results.put((sum(done), time.monotonic(), errors, time.process_time() - client_cpu))
    db.dispose()


def _client_processes() -> int:
    return int(os.environ.get("BENCH_CLIENT_PROCESSES", max(os.cpu_count() or 1, 1)))


def _race(kind: str, db, job: dict) -> tuple[int, float, dict]:
    """CONTENDERS clients spread over one process per CPU, as a service's API workers would be.

    One process per CPU, so that the clients' own Python does not queue on one interpreter lock
    while the database waits. Returns (operations, wall seconds from release to the last finish,
    CPU milliseconds per operation of the clients and of the server; the server's is None when its
    processes cannot be read from here).
    """
    processes = _client_processes()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes + 1), context.Queue()
    job = {**job, "url": db.url, "schema": db.schema}
    shares = [CONTENDERS // processes + (1 if p < CONTENDERS % processes else 0) for p in range(processes)]
    workers = [context.Process(target=_client_process, args=(kind, job, sum(shares[:p]), shares[p], start, results))
               for p in range(processes)]
    for worker in workers:
        worker.start()
    start.wait()  # every client process has its connections open
    server_cpu = _server_cpu_seconds(db)
    began = time.monotonic()
    reports = [results.get(timeout=600) for _ in workers]
    server_after = _server_cpu_seconds(db)
    for worker in workers:
        worker.join()
    errors = [error for _done, _ended, errs, _cpu in reports for error in errs]
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}")
    operations = sum(done for done, _ended, _errs, _cpu in reports)
    per_op = 1000 / max(operations, 1)
    cpu_ms = {"client": per_op * sum(cpu for *_rest, cpu in reports),
              "server": None if None in (server_cpu, server_after) else per_op * (server_after - server_cpu)}
    return operations, max(ended for _done, ended, _errs, _cpu in reports) - began, cpu_ms


def commit_ceiling(db, seconds: float = 5.0) -> tuple[float, dict]:
    """Single-row commits per second from CONTENDERS connections (the database's own ceiling here),
    and the CPU milliseconds per commit (see ``_race``)."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commits (id bigserial PRIMARY KEY, n int)"))
    # The deadline counts from a second ahead: the clients start their clocks when released.
    commits, elapsed, cpu_ms = _race("ceiling", db, {"deadline": time.monotonic() + seconds + 1})
    return commits / elapsed, cpu_ms


def serial_commits(db, count: int = 1000) -> float:
    """Single-row commits per second from one connection: the most any decision serialised on one row can reach."""
    with db.engine.connect() as conn:
        started = time.perf_counter()
        for n in range(count):
            conn.execute(text("INSERT INTO bench_commits (n) VALUES (:n)"), {"n": n})
            conn.commit()
        return count / (time.perf_counter() - started)


def open_cohort(db, seats: int, *, waitlist_places: int = 0) -> str:
    """A new open cohort of ``seats`` seats (and at least ``waitlist_places`` waitlist places); its id."""
    from services.scheduling import places
    from services.scheduling.models import Cohort

    with db.unit_of_work() as uow:
        cohort = Cohort(tenant="CA", series_id=str(uuid.uuid4()), title="Bench cohort", format="virtual",
                        time_zone="America/Los_Angeles", capacity=seats, facilitators=[], status="open")
        uow.session.add(cohort)
        uow.session.flush()
        places.provide(uow.session, cohort.id, seats)
        uow.session.execute(text("INSERT INTO places (cohort_id, kind, number) SELECT :cohort, 'waitlist', n "
                                 "FROM generate_series(1, CAST(:last AS integer)) AS n ON CONFLICT DO NOTHING"),
                            {"cohort": cohort.id, "last": waitlist_places})
        uow.commit()
        return cohort.id


def registration_rate(db) -> dict:
    """REGISTRATIONS people racing for SEATS seats of one cohort, CONTENDERS at a time."""
    from services.scheduling.models import Registration

    cohort_id = open_cohort(db, SEATS)
    registered, elapsed, cpu_ms = _race("registering", db,
                                        {"cohort_id": cohort_id, "each": REGISTRATIONS // CONTENDERS})
    with db.session() as session:
        confirmed = session.scalar(select(func.count()).select_from(Registration).where(
            Registration.cohort_id == cohort_id, Registration.status == "confirmed"))
    return {"per_s": registered / elapsed, "confirmed": confirmed, "seats": SEATS, "registrations": registered,
            "cpu_ms": cpu_ms}


def fill_sessions(db, total: int, *, tenant: str = "CA", offset: int = 0) -> list[str]:
    """``total`` sessions over 100-session cohorts, each booked for its facilitator (bulk insert)."""
    from services.scheduling.models import Booking, Cohort, Session

    base = datetime(2027, 1, 4, 17, tzinfo=UTC)
    ids = []
    with db.unit_of_work() as uow:
        for c in range(total // 100):
            cohort_id = str(uuid.uuid4())
            facilitator = f"bench-fac-{(offset // 100 + c) % 500}"
            uow.session.execute(insert(Cohort), [dict(
                id=cohort_id, tenant=tenant, series_id="s", title=f"Cohort {c}", format="virtual",
                time_zone="America/Los_Angeles", capacity=20, facilitators=[facilitator], status="open",
                requires_approval=False, completion_minimum=9,
                created_at=base, updated_at=base)])
            sessions, bookings = [], []
            for k in range(100):
                # Spread over years and hours so a facilitator's sessions never overlap each other.
                start = base + timedelta(days=7 * ((offset // 100 + c) // 500 * 100 + k), hours=(c % 5) * 3)
                sid = str(uuid.uuid4())
                ids.append(sid)
                sessions.append(dict(id=sid, tenant=tenant, cohort_id=cohort_id, module_id=f"module-{k % 9 + 1}",
                                     module_position=k % 9 + 1, title=f"Session {k}", starts_at=start,
                                     ends_at=start + timedelta(hours=2), meeting_url="https://meet.example.org/b",
                                     facilitators=[facilitator], status="scheduled", sequence=0,
                                     created_at=base, updated_at=base))
                bookings.append(dict(id=str(uuid.uuid4()), tenant=tenant, resource=f"person:{facilitator}",
                                     starts_at=start, ends_at=start + timedelta(hours=2), owner_kind="session",
                                     owner_id=sid))
            uow.session.execute(insert(Session), sessions)
            uow.session.execute(insert(Booking), bookings)
        uow.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return ids


def conflict_check_ms(db, queries: int = 400) -> float:
    """Mean time of the conflict check for a random person and interval."""
    from services.scheduling import repository

    rng = random.Random(7)
    base = datetime(2027, 1, 4, 17, tzinfo=UTC)
    timings = []
    with db.session() as session:
        for _ in range(queries):
            start = base + timedelta(days=rng.randrange(0, 2000), hours=rng.randrange(0, 15))
            resources = [f"person:bench-fac-{rng.randrange(500)}", f"room:{uuid.uuid4()}"]
            began = time.perf_counter()
            repository.conflicts(session, resources, start, start + timedelta(hours=2))
            timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


def scheduling_figures(env: dict, tokens, results: dict, *, gunicorn, free_port, wait_http,
                       clients: int, seconds: float, rounds: int) -> None:
    os.environ.update(env)
    from shared.db import Database

    from services.scheduling.bootstrap import build_context, migrate
    from services.scheduling.config import SchedulingConfig
    from services.scheduling.seed import load_seed

    config = SchedulingConfig.from_env()
    migrate(config)
    ctx = build_context(config)
    with ctx.db.unit_of_work() as uow:
        load_seed(uow.session)
        uow.commit()
    db = Database(config.database_url, schema=config.db_schema, pool_size=CONTENDERS)
    try:
        ceiling, ceiling_cpu_ms = commit_ceiling(db)
        figures = {"commit_ceiling_per_s": ceiling, "commit_cpu_ms": ceiling_cpu_ms,
                   "serial_commits_per_s": serial_commits(db), "client_processes": _client_processes()}
        figures["registrations"] = registration_rate(db)
        figures["registrations"]["ratio"] = figures["registrations"]["per_s"] / figures["commit_ceiling_per_s"]

        fill_sessions(db, 10_000)
        at_10k = conflict_check_ms(db)
        fill_sessions(db, 10_000, offset=10_000)
        at_20k = conflict_check_ms(db)
        figures["conflict_check"] = {"ms_at_10000": at_10k, "ms_at_20000": at_20k, "growth": at_20k / at_10k}
        ids = fill_sessions(db, max(SESSIONS - 20_000, 100), offset=20_000)

        api_port, bare_port = free_port(), free_port()
        bare_env = {**env, "BENCH_DATABASE_URL": config.database_url, "BENCH_DB_SCHEMA": config.db_schema,
                    "BENCH_TABLE": "sessions"}
        # Both as the scheduling API is deployed (its threads), so that the ratio is the app's own cost.
        servers = [gunicorn("services.scheduling.wsgi:app", api_port, env, "services.scheduling.gunicorn_conf"),
                   gunicorn("bench.bare_app:app", bare_port, bare_env, "services.scheduling.gunicorn_conf")]
        try:
            wait_http(api_port)
            wait_http(bare_port, f"/rows/{ids[0]}")
            auth = {"Authorization": f"Bearer {tokens.token('jurisdiction_admin', 'CA')}"}
            plans = {"ceiling": (bare_port, f"/rows/{ids[0]}", {}),
                     "session_list": (api_port, "/sessions?limit=50", auth)}
            measured = measure_interleaved(plans, clients=clients, seconds=seconds, rounds=rounds)
            figures["ceiling"] = measured["ceiling"]
            figures["session_list"] = measured["session_list"]
            figures["session_list"]["ratio"] = measured["session_list"]["rps"] / measured["ceiling"]["rps"]
            figures["session_list_half_load"] = run_paced(api_port, "/sessions?limit=50", auth,
                                                          rate=measured["session_list"]["rps"] / 2, seconds=seconds)
            results.setdefault("rss", {}).update(
                {f"scheduling-api pid {p}": rss_mb(p) for p in process_tree(servers[0].pid)})
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
        results["scheduling"] = figures
    finally:
        db.dispose()
        ctx.db.dispose()


def _cpu(ms: dict) -> str:
    server = "server not measured here" if ms["server"] is None else f"{ms['server']:.2f} ms server"
    return f"{ms['client']:.2f} ms clients + {server}"


def report(r: dict, verdict) -> None:
    s = r["scheduling"]
    reg = s["registrations"]
    print(f"  ceiling  single-row commits, {CONTENDERS} connections  {s['commit_ceiling_per_s']:8.0f} commits/s "
          f"(clients spread over {s.get('client_processes', 1)} processes, as for the registrations)")
    print(f"           (one connection, one commit after another: {s['serial_commits_per_s']:.0f} commits/s)")
    print(f"  sched.   registrations, {CONTENDERS} racing           {reg['per_s']:8.0f} /s = {reg['ratio']:6.1%} "
          f"of ceiling (target {TARGETS['registrations']:.0%}: {verdict(reg['ratio'] >= TARGETS['registrations'])};"
          f" {reg['confirmed']} confirmed for {reg['seats']} seats: {'exact' if reg['confirmed'] == reg['seats'] else 'WRONG'})")
    print(f"           CPU per operation, clients + server: commit {_cpu(s['commit_cpu_ms'])}, "
          f"registration {_cpu(reg['cpu_ms'])}")
    print(f"  ceiling  bare Flask + 1 PK SELECT (sessions)  {s['ceiling']['rps']:8.0f} req/s")
    lst = s["session_list"]
    print(f"  sched.   GET /sessions?limit=50 of {SESSIONS:,}  {lst['rps']:8.0f} req/s = {lst['ratio']:6.1%} of ceiling "
          f"(target {TARGETS['session_list']:.0%}: {verdict(lst['ratio'] >= TARGETS['session_list'])})")
    half = s["session_list_half_load"]
    print(f"           at half load ({half['offered_rps']:.0f} req/s offered): p50 {half['p50_ms']:.1f} ms, "
          f"p99 {half['p99_ms']:.1f} ms (target < {TARGETS['p99_ms']:.0f} ms: "
          f"{verdict(half['p99_ms'] < TARGETS['p99_ms'])}; errors {half['errors']})")
    c = s["conflict_check"]
    print(f"  sched.   conflict check {c['ms_at_10000']:.2f} ms at 10,000 sessions, {c['ms_at_20000']:.2f} ms at 20,000: "
          f"growth {c['growth']:.2f}x (target <= {TARGETS['conflict_growth']}x: "
          f"{verdict(c['growth'] <= TARGETS['conflict_growth'])})")
