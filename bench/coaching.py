"""The coaching service on a simulated national year: caseloads, a jurisdiction's report, the national reach.

``python -m bench.coaching`` (or ``make bench``'s coaching section) loads a national year into a fresh
PostgreSQL schema in two equal halves (630 jurisdictions, 20,000 trainers with their plans and
commitments, 200,000 support activities, 40,000 fidelity observations, and one delivered training per
second trainer for the reach) and after each half times, over HTTP (the app on a real local server,
one client, closed loop): a specialist's caseload and a jurisdiction's report for random specialists
and jurisdictions, and the national reach roll-up. ``BENCH_COACHING_SCALE`` scales the year (1.0 is
the whole year; the default 0.25 loads in seconds).

Targets (the coaching service's issue): caseload and report p99 under 100 ms, the national reach under
2 s, and time from half to full data at most 2.2 times.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import text

NATIONAL = {"jurisdictions": 630, "trainers": 20_000, "activities": 200_000, "observations": 40_000}
SPECIALISTS_PER_JURISDICTION = 3
TARGETS = {"caseload_p99_ms": 100.0, "report_p99_ms": 100.0, "reach_s": 2.0, "growth": 2.2}
REQUESTS = int(os.environ.get("BENCH_COACHING_REQUESTS", "300"))

MARKER = "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)"
TENANT = "'J' || lpad(CAST(1 + n % CAST(:jurisdictions AS integer) AS text), 3, '0')"

_JURISDICTIONS = [
    """INSERT INTO jurisdictions (code, name, kind, default_time_zone, announced_at)
       SELECT 'J' || lpad(CAST(j AS text), 3, '0'), 'Jurisdiction ' || j, 'tribe', 'America/Denver', :now
       FROM generate_series(1, CAST(:jurisdictions AS integer)) AS j""",
    # Nine in ten consent to national roll-ups; the others are withheld.
    """INSERT INTO jurisdiction_settings (tenant, default_time_frame_months, national_consent, created_at, updated_at)
       SELECT 'J' || lpad(CAST(j AS text), 3, '0'), 6, j % 10 <> 0, :now, :now
       FROM generate_series(1, CAST(:jurisdictions AS integer)) AS j""",
]

# One half of the year: trainers numbered :first to :last, each with a plan and a commitment, ten
# activities, two observations; every second trainer delivered a training that reached ten people.
_HALF = [
    f"""INSERT INTO plans (id, tenant, trainer, specialist, series_id, cohort_id, registration_id, completed_at,
                          opened_by, created_at, updated_at, change)
       SELECT 'p' || n, {TENANT}, 'trainer-' || n,
              'its-' || {TENANT} || '-' || (n / CAST(:jurisdictions AS integer)) % {SPECIALISTS_PER_JURISDICTION},
              'series', 't4t-' || {TENANT} || '-' || (n / CAST(:jurisdictions AS integer)) % 4, 'reg-' || n,
              :now - ((n % 365) || ' days')::interval, 'event', :now, :now, {MARKER}
       FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n""",
    f"""INSERT INTO commitments (id, plan_id, tenant, trainer, time_frame_months, due_on, agreed_by,
                                fulfilled_on, created_at, updated_at, change)
       SELECT 'cm' || n, 'p' || n, {TENANT}, 'trainer-' || n, 6,
              CAST(:now - ((n % 365) || ' days')::interval + interval '6 months' AS date), '[]',
              CASE WHEN n % 5 = 0 THEN CAST(:now AS date) END, :now, :now, {MARKER}
       FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n""",
    f"""INSERT INTO activities (id, tenant, trainer, plan_id, author, status, kind, occurred_on, duration_minutes,
                               mode, people_present, practices, notes, strengths, next_steps, follow_up_on,
                               revision, created_at, updated_at, change)
       SELECT 'a' || n || '-' || k, {TENANT}, 'trainer-' || n, 'p' || n,
              'its-' || {TENANT} || '-' || (n / CAST(:jurisdictions AS integer)) % {SPECIALISTS_PER_JURISDICTION},
              'logged', (ARRAY['meeting', 'coaching', 'consultation', 'office_hours'])[1 + k % 4],
              CAST(:now - ((k * 20 + n % 7) || ' days')::interval AS date), 30 + 15 * (k % 4), 'virtual',
              '[]', '["primary-caregiving"]', 'notes', '', '',
              CASE WHEN k = 1 THEN CAST(:now + ((n % 30) || ' days')::interval AS date) END, 1, :now, :now, {MARKER}
       FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n,
            generate_series(1, CAST(:activities_each AS integer)) AS k""",
    f"""INSERT INTO fidelity_observations (id, tenant, trainer, observer, session_position, practice, observed_on,
                                          checklist, score, comments, created_at, updated_at, change)
       SELECT 'o' || n || '-' || k, {TENANT}, 'trainer-' || n, 'its', 1 + (n + k) % 9, 'primary-caregiving',
              CAST(:now - ((k * 30) || ' days')::interval AS date), '[]', 0.5 + ((n + k) % 5) / 10.0, '',
              :now, :now, {MARKER}
       FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n,
            generate_series(1, CAST(:observations_each AS integer)) AS k""",
    f"""INSERT INTO delivery_sessions (session_id, tenant, cohort_id, series_id, facilitators, starts_at, cancelled,
                                      sequence, held_at, reached)
       SELECT 'ds' || n, {TENANT}, 'delivery-' || n, 'community', json_build_array('trainer-' || n), :now, false,
              0, :now, (SELECT json_agg('person-' || n || '-' || r) FROM generate_series(1, 10) AS r)
       FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n WHERE n % 2 = 0""",
]


def load(db, sql: list[str], params: dict) -> None:
    with db.engine.begin() as conn:
        for statement in sql:
            conn.execute(text(statement), params)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else samples[0]


def timed(session: requests.Session, url: str, headers: dict) -> float:
    began = time.perf_counter()
    response = session.get(url, headers=headers, timeout=30)
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, response.text[:500]
    return elapsed


def measure(base: str, tokens, jurisdictions: int, rng: random.Random) -> dict:
    http = requests.Session()
    # One token per caller, made before the clock starts (a token is minted once, used all day).
    specialists = [
        (f"J{j:03d}", f"its-J{j:03d}-{s}")
        for j in range(1, jurisdictions + 1)
        for s in range(SPECIALISTS_PER_JURISDICTION)
    ]
    callers = rng.sample(specialists, min(REQUESTS, len(specialists)))
    caseload_headers = [(tokens.headers("specialist", tenant, sub=sub)) for tenant, sub in callers]
    admins = [tokens.headers("jurisdiction_admin", tenant, sub=f"admin-{tenant}") for tenant, _ in callers]
    national = tokens.headers("national_admin", "US", sub="bench-national")
    for headers in caseload_headers[:5]:  # warm the server's caches of tokens and jurisdictions
        timed(http, f"{base}/caseload", headers)
    caseload = [timed(http, f"{base}/caseload", h) for h in caseload_headers]
    report = [timed(http, f"{base}/reports/summary", h) for h in admins]
    reach = [timed(http, f"{base}/reach/national", national) / 1000 for _ in range(3)]
    return {
        "caseload_p50_ms": statistics.median(caseload),
        "caseload_p99_ms": p99(caseload),
        "report_p50_ms": statistics.median(report),
        "report_p99_ms": p99(report),
        "reach_s": min(reach),
        "requests": len(caseload),
    }


def counts(db) -> dict:
    with db.engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("plans", "activities", "fidelity_observations", "delivery_sessions")
        }


def coaching_figures(env: dict, tokens, *, scale: float) -> dict:
    os.environ.update(env)
    from services.coaching.app import create_app
    from services.coaching.bootstrap import build_context, migrate
    from services.coaching.config import CoachingConfig
    from shared.testing.contract import serving

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request would drown the figures
    config = CoachingConfig.from_env()
    migrate(config)
    ctx = build_context(config)
    trainers = max(2, round(NATIONAL["trainers"] * scale))
    half = trainers // 2
    params = {
        "now": datetime.now(UTC),
        "jurisdictions": NATIONAL["jurisdictions"],
        "activities_each": NATIONAL["activities"] // NATIONAL["trainers"],
        "observations_each": NATIONAL["observations"] // NATIONAL["trainers"],
    }
    figures: dict = {"scale": scale}
    rng = random.Random(12)
    try:
        load(ctx.db, _JURISDICTIONS, params)
        with serving(create_app(ctx)) as base:
            for name, first in (("half", 1), ("full", 1 + half)):
                began = time.perf_counter()
                load(ctx.db, _HALF, {**params, "first": first, "last": first + half - 1})
                figures[name] = {
                    "load_s": time.perf_counter() - began,
                    "counts": counts(ctx.db),
                    **measure(base, tokens, NATIONAL["jurisdictions"], rng),
                }
        figures["growth"] = max(
            figures["full"][key] / figures["half"][key] for key in ("caseload_p50_ms", "report_p50_ms", "reach_s")
        )
    finally:
        ctx.db.dispose()
    return figures


def report(f: dict) -> None:
    def verdict(ok: bool) -> str:
        return "meets target" if ok else "BELOW TARGET"

    print(f"\nCoaching, national year at scale {f['scale']} (630 jurisdictions, over HTTP, one client):")
    for name in ("half", "full"):
        r = f[name]
        c = r["counts"]
        print(
            f"  {name}: {c['plans']:,} trainers, {c['activities']:,} activities, {c['fidelity_observations']:,} "
            f"observations, {c['delivery_sessions']:,} deliveries (loaded in {r['load_s']:.1f} s); caseload p50 "
            f"{r['caseload_p50_ms']:.1f} ms p99 {r['caseload_p99_ms']:.1f} ms; report p50 {r['report_p50_ms']:.1f} ms "
            f"p99 {r['report_p99_ms']:.1f} ms; national reach {r['reach_s']:.2f} s"
        )
    full = f["full"]
    for key, unit in (("caseload_p99_ms", "ms"), ("report_p99_ms", "ms"), ("reach_s", "s")):
        print(f"  {key} {full[key]:.2f} {unit} (target < {TARGETS[key]}): {verdict(full[key] < TARGETS[key])}")
    print(
        f"  half to full data: x{f['growth']:.2f} (target <= {TARGETS['growth']}): {verdict(f['growth'] <= TARGETS['growth'])}"
    )


def main() -> int:
    from shared.testing import AUDIENCE, ISSUER, POSTGRES_URL, RABBITMQ_URL, Tokens, drop_pg_schema

    tmp = Path(tempfile.mkdtemp(prefix="t4t-coaching-"))
    tokens = Tokens()
    (tmp / "key.pem").write_bytes(tokens.private_pem)
    schema = f"bench_coaching_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "COACHING_DATABASE_URL": POSTGRES_URL,
        "COACHING_DB_SCHEMA": schema,
        "BROKER_URL": RABBITMQ_URL,
        "BROKER_NAMESPACE": f"{schema}.",
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_DEV_PRIVATE_KEY_FILE": str(tmp / "key.pem"),
        "DATA_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
    }
    try:
        figures = coaching_figures(env, tokens, scale=float(os.environ.get("BENCH_COACHING_SCALE", "0.25")))
    finally:
        drop_pg_schema(schema)
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
