"""Scheduling's figures: registrations against the commit ceiling, the session list against the bare
ceiling (and its p99 at half load), and the conflict check's growth when the sessions double."""

from __future__ import annotations

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


def _in_threads(work, count: int) -> float:
    """Run ``work(i)`` in ``count`` threads released together; return the wall time."""
    barrier = threading.Barrier(count + 1)
    errors: list = []

    def run(i):
        barrier.wait()
        try:
            work(i)
        except Exception as exc:  # reported below: a benchmark with errors is not a figure
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} workers failed, first: {errors[0]!r}")
    return time.perf_counter() - started


def commit_ceiling(db, seconds: float = 5.0) -> float:
    """Single-row commits per second from CONTENDERS connections: the database's own ceiling here."""
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_commits (id bigserial PRIMARY KEY, n int)"))
    counts = [0] * CONTENDERS
    deadline = time.perf_counter() + seconds + 1

    def work(i):
        with db.engine.connect() as conn:
            while time.perf_counter() < deadline:
                conn.execute(text("INSERT INTO bench_commits (n) VALUES (:n)"), {"n": i})
                conn.commit()
                counts[i] += 1

    elapsed = _in_threads(work, CONTENDERS)
    return sum(counts) / elapsed


def serial_commits(db, count: int = 1000) -> float:
    """Single-row commits per second from one connection: the most any decision serialised on one row can reach."""
    with db.engine.connect() as conn:
        started = time.perf_counter()
        for n in range(count):
            conn.execute(text("INSERT INTO bench_commits (n) VALUES (:n)"), {"n": n})
            conn.commit()
        return count / (time.perf_counter() - started)


def registration_rate(db) -> dict:
    """REGISTRATIONS people racing for SEATS seats of one cohort, CONTENDERS at a time."""
    from shared.auth import PARTICIPANT, Principal

    from services.scheduling import registrations
    from services.scheduling.models import Cohort, Registration

    with db.unit_of_work() as uow:
        cohort = Cohort(tenant="CA", series_id=str(uuid.uuid4()), title="Bench cohort", format="virtual",
                        time_zone="America/Los_Angeles", capacity=SEATS, facilitators=[], status="open")
        uow.session.add(cohort)
        uow.commit()
        cohort_id = cohort.id
    per_thread = REGISTRATIONS // CONTENDERS

    def work(i):
        for k in range(per_thread):
            n = i * per_thread + k
            who = Principal(sub=f"bench-{n}", tenant="CA", roles=frozenset({PARTICIPANT}))
            with db.unit_of_work() as uow:
                registrations.register(cohort_id, {"name": f"Person {n}", "email": f"p{n}@example.org"}, uow, who)

    elapsed = _in_threads(work, CONTENDERS)
    with db.session() as session:
        confirmed = session.scalar(select(func.count()).select_from(Registration).where(
            Registration.cohort_id == cohort_id, Registration.status == "confirmed"))
    return {"per_s": per_thread * CONTENDERS / elapsed, "confirmed": confirmed, "seats": SEATS,
            "registrations": per_thread * CONTENDERS}


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
                requires_approval=False, completion_minimum=9, confirmed_count=0, waitlist_seq=0,
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
        figures = {"commit_ceiling_per_s": commit_ceiling(db), "serial_commits_per_s": serial_commits(db)}
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
        servers = [gunicorn("services.scheduling.wsgi:app", api_port, env),
                   gunicorn("bench.bare_app:app", bare_port, bare_env)]
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


def report(r: dict, verdict) -> None:
    s = r["scheduling"]
    reg = s["registrations"]
    print(f"  ceiling  single-row commits, {CONTENDERS} connections  {s['commit_ceiling_per_s']:8.0f} commits/s")
    print(f"           (one connection, one commit after another: {s['serial_commits_per_s']:.0f} commits/s)")
    print(f"  sched.   registrations, {CONTENDERS} racing           {reg['per_s']:8.0f} /s = {reg['ratio']:6.1%} "
          f"of ceiling (target {TARGETS['registrations']:.0%}: {verdict(reg['ratio'] >= TARGETS['registrations'])};"
          f" {reg['confirmed']} confirmed for {reg['seats']} seats: {'exact' if reg['confirmed'] == reg['seats'] else 'WRONG'})")
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
