"""The coaching service on a simulated national year: caseloads, a jurisdiction's report, the national reach.

``python -m bench.coaching`` (or ``make bench``'s coaching section) loads a national year into a fresh
PostgreSQL schema in two equal halves (630 jurisdictions, 20,000 trainers with their plans and
commitments, 200,000 support activities, 40,000 fidelity observations, and one delivered training per
second trainer for the reach) and after each half times, over HTTP (the app on a real local server,
one client, closed loop): a specialist's caseload and a jurisdiction's report for random specialists
and jurisdictions, and the national reach roll-up. ``BENCH_COACHING_SCALE`` scales the year (1.0 is
the whole year, the default: the issue's figures are for it; 0.25 loads in seconds).

Targets (the coaching service's issue): caseload and report p99 under 100 ms, the national reach under
2 s, and time from half to full data at most 2.2 times.

Then, after each half, the same two pages under concurrent load (``BENCH_CLIENTS`` closed-loop
clients, each request a random specialist or jurisdiction admin with a token of their own) against
the API served as deployed (gunicorn with ``services.coaching.gunicorn_conf``) and against its ceiling: a bare
Flask app replaying the SQL the API runs for the same request (``bench.same_sql``,
``bench.bare_app``, as for scheduling), under the fastest of several gunicorn configurations, the two
measured in interleaved rounds. Any 5xx, or a page whose counts differ from the database's, is FAILED.
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

from shared.testing import spare_port

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


# --- the ceiling: the same SQL under concurrent load ----------------------------------------------

CHECKED = 20  # callers whose pages are checked against the database's own counts


def callers(jurisdictions: int) -> list[tuple[str, str]]:
    return [
        (f"J{j:03d}", f"its-J{j:03d}-{s}")
        for j in range(1, jurisdictions + 1)
        for s in range(SPECIALISTS_PER_JURISDICTION)
    ]


def capture_plans(app, tokens, caller: tuple[str, str]) -> tuple[dict, dict]:
    """The SQL the API runs for a caseload and a jurisdiction's report, captured in process."""
    from bench import same_sql

    tenant, sub = caller
    plans, shown = {}, {}
    for name, path, headers, inputs in (
        ("caseload", "/caseload", tokens.headers("specialist", tenant, sub=sub), {"tenant": tenant, "sub": sub}),
        (
            "report",
            "/reports/summary",
            tokens.headers("jurisdiction_admin", tenant, sub=f"admin-{tenant}"),
            {"tenant": tenant},
        ),
    ):
        response, steps = same_sql.capture(app, "GET", path, headers, inputs)
        assert response.status_code == 200, response.get_data()
        plans[name] = (inputs, steps)
        shown[f"GET {path}"] = same_sql.describe(steps)
    return plans, shown


def load_requests(tokens, people: list[tuple[str, str]]) -> dict[str, tuple[list, list]]:
    """{page: (the API's requests, the ceiling's)} for these callers, each with a token of their own."""
    from bench.load import Request

    caseload = [Request("GET", "/caseload", tokens.headers("specialist", t, sub=s)) for t, s in people]
    report = [
        Request("GET", "/reports/summary", tokens.headers("jurisdiction_admin", t, sub=f"admin-{t}")) for t, _ in people
    ]
    return {
        "caseload": (caseload, [Request("GET", f"/replay/caseload?tenant={t}&sub={s}") for t, s in people]),
        "report": (report, [Request("GET", f"/replay/report?tenant={t}") for t, _ in people]),
    }


def miscounts(db, api_port: int, tokens, people: list[tuple[str, str]]) -> list[str]:
    """Pages of the API whose counts differ from what the database holds for the caller."""
    http, wrong = requests.Session(), []
    base = f"http://127.0.0.1:{api_port}"
    with db.engine.connect() as conn:
        for tenant, sub in people:
            plans = conn.execute(
                text("SELECT count(*) FROM plans WHERE tenant = :t AND specialist = :s"), {"t": tenant, "s": sub}
            ).scalar()
            page = http.get(f"{base}/caseload", headers=tokens.headers("specialist", tenant, sub=sub), timeout=30)
            if page.status_code != 200 or len(page.json()["items"]) != plans:
                wrong.append(f"caseload {tenant}/{sub}: {page.status_code}, expected {plans} trainers")
            activities, commitments = (
                conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant = :t"), {"t": tenant}).scalar()
                for table in ("activities", "commitments")
            )
            summary = http.get(
                f"{base}/reports/summary",
                headers=tokens.headers("jurisdiction_admin", tenant, sub=f"admin-{tenant}"),
                timeout=30,
            )
            body = summary.json() if summary.status_code == 200 else {}
            counted = sum(k["count"] for k in body.get("activities_by_kind", {}).values())
            committed = sum(body.get("commitments_by_status", {}).values())
            if summary.status_code != 200 or (counted, committed) != (activities, commitments):
                wrong.append(
                    f"report {tenant}: {summary.status_code}, {counted}/{committed} against {activities}/{commitments}"
                )
    return wrong


def ceiling_figures(db, tokens, servers, api_port: int, bare: dict, rng: random.Random) -> dict:
    """The API and its bare ceiling under the same concurrent load, interleaved; ratios and checks."""
    from bench.scheduling import CLIENTS, interleaved

    everyone = callers(NATIONAL["jurisdictions"])
    people = rng.sample(everyone, min(REQUESTS, len(everyone)))
    pages = load_requests(tokens, people)
    measured = interleaved(
        {
            **{f"api {page}": (api_port, api_reqs, False) for page, (api_reqs, _) in pages.items()},
            **{f"bare {page}": (bare["port"], bare_reqs, False) for page, (_, bare_reqs) in pages.items()},
        },
        servers,
        clients=CLIENTS,
    )
    figures = {"clients": CLIENTS, "miscounts": miscounts(db, api_port, tokens, people[:CHECKED])}
    for page in pages:
        api, ceiling = measured[f"api {page}"], measured[f"bare {page}"]
        figures[page] = {
            "api_rps": round(api["rps"], 1),
            "api_p50_ms": round(api["p50_ms"], 1),
            "api_p99_ms": round(api["p99_ms"], 1),
            "bare_rps": round(ceiling["rps"], 1),
            "bare_p99_ms": round(ceiling["p99_ms"], 1),
            "ratio": round(api["rps"] / ceiling["rps"], 3) if ceiling["rps"] else None,
            "api_statuses": api["statuses"],
            "bare_statuses": ceiling["statuses"],
        }
    return figures


def start_servers(env: dict, tmp: Path, app, tokens) -> tuple:
    """The API as deployed, and its ceiling under the fastest configuration for caseloads."""
    import pickle

    from bench.__main__ import wait_http
    from bench.load import Request, run_load
    from bench.scheduling import Servers, best_ceiling, candidates, service_settings

    conf = "services.coaching.gunicorn_conf"
    servers = Servers(env, tmp, spare_port, wait_http, service="coaching", conf=conf)
    api_port, _ = servers.api()
    plans, shown = capture_plans(app, tokens, ("J001", "its-J001-0"))
    path = tmp / "coaching-plans.pickle"
    path.write_bytes(pickle.dumps(plans))
    sample = [Request("GET", f"/replay/caseload?tenant={t}&sub={s}") for t, s in callers(NATIONAL["jurisdictions"])]
    bare, trials = best_ceiling(
        servers,
        candidates(service_settings(env, conf)),
        path,
        lambda port, _name: run_load(port, sample, clients=8, seconds=2)["rps"],
    )
    return servers, api_port, bare, trials, shown


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
    servers = None
    try:
        load(ctx.db, _JURISDICTIONS, params)
        app = create_app(ctx)
        with serving(app) as base:
            for name, first in (("half", 1), ("full", 1 + half)):
                began = time.perf_counter()
                load(ctx.db, _HALF, {**params, "first": first, "last": first + half - 1})
                figures[name] = {
                    "load_s": time.perf_counter() - began,
                    "counts": counts(ctx.db),
                    **measure(base, tokens, NATIONAL["jurisdictions"], rng),
                }
                if servers is None:
                    servers, api_port, bare, trials, shown = start_servers(env, Path(env["DATA_DIR"]), app, tokens)
                    figures["ceiling_trials"], figures["plans"] = trials, shown
                figures[name]["concurrent"] = ceiling_figures(ctx.db, tokens, servers, api_port, bare, rng)
        figures["growth"] = max(
            figures["full"][key] / figures["half"][key] for key in ("caseload_p50_ms", "report_p50_ms", "reach_s")
        )
    finally:
        if servers is not None:
            servers.stop()
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
    print(f"  ceiling configurations tried (caseload rps): {f['ceiling_trials']}")
    for name in ("half", "full"):
        c = f[name]["concurrent"]
        for page in ("caseload", "report"):
            r = c[page]
            print(
                f"  {name} {page}, {c['clients']} clients: API {r['api_rps']}/s (p50 {r['api_p50_ms']} ms, p99 "
                f"{r['api_p99_ms']} ms), bare same SQL {r['bare_rps']}/s (p99 {r['bare_p99_ms']} ms): "
                f"{r['ratio']:.0%} of the ceiling"
            )
    for verdict_ in verdicts(f):
        print(f"  {verdict_['verdict']:<6} {verdict_['name']}: {verdict_['detail']}")


def verdicts(f: dict) -> list[dict]:
    """FAILED on any 5xx or miscounted page; otherwise every target of the coaching service's issue, PASS or
    MISS: caseload and report p99 under concurrent load, the national reach, the growth to the full year."""
    out = []
    for name in ("half", "full"):
        c = f[name]["concurrent"]
        errors = sum(
            c[p][side].get("5xx", 0) + c[p][side].get("failed", 0)
            for p in ("caseload", "report")
            for side in ("api_statuses", "bare_statuses")
        )
        broken = errors or c["miscounts"]
        for page in ("caseload", "report"):
            ok = c[page]["api_p99_ms"] < TARGETS[f"{page}_p99_ms"]
            out.append(
                {
                    "name": f"coaching {page} ({name} data, concurrent)",
                    "verdict": "FAILED" if broken else ("PASS" if ok else "MISS"),
                    "detail": f"p99 {c[page]['api_p99_ms']} ms (target < {TARGETS[f'{page}_p99_ms']:.0f}), "
                    f"{c[page]['ratio']:.0%} of the same SQL's ceiling; 5xx/failed {errors}; "
                    f"miscounts {c['miscounts'][:3]}",
                }
            )
    reach = f["full"]["reach_s"]
    out.append(
        {
            "name": "coaching national reach roll-up (full data)",
            "verdict": "PASS" if reach < TARGETS["reach_s"] else "MISS",
            "detail": f"{reach:.2f} s (target < {TARGETS['reach_s']:.0f} s)",
        }
    )
    out.append(
        {
            "name": "coaching growth from half to full data (worst of caseload, report, reach)",
            "verdict": "PASS" if f["growth"] <= TARGETS["growth"] else "MISS",
            "detail": f"{f['growth']:.2f}x (target <= {TARGETS['growth']}x)",
        }
    )
    return out


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
        figures = coaching_figures(env, tokens, scale=float(os.environ.get("BENCH_COACHING_SCALE", "1")))
    finally:
        drop_pg_schema(schema)
    report(figures)
    return 1 if any(v["verdict"] == "FAILED" for v in verdicts(figures)) else 0


if __name__ == "__main__":
    sys.exit(main())
