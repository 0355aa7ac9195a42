"""Scheduling's figures on a national year: reads at half and at all of the year, registrations, the relay.

Every figure is taken over HTTP against the API served as deployed (gunicorn with
``services/scheduling/gunicorn_conf.py``), and compared with the bare ceiling replaying the SQL the
API runs for the same request (``bench.same_sql``, ``bench.bare_app``) under the fastest of several
server and database configurations, chosen in the same run (``CANDIDATES``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

from bench import national_year as year
from bench import same_sql
from bench.load import Request, process_tree, rss_mb, run_load, run_paced, run_sequences

ROOT = Path(__file__).resolve().parent.parent
SERVICE_CONF = "services.scheduling.gunicorn_conf"
USERS = 100  # per jurisdiction, each with a token of their own
ROLES = ("facilitator", "jurisdiction_admin", "agency_coordinator", "specialist", "coach", "participant")
CROWD = 50  # clients registering at once
BURST_SEATS = 20
SPREAD_COHORTS = 1000


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


SECONDS = _env_float("BENCH_SECONDS", 7.5)  # per measured figure, split over ROUNDS interleaved rounds
ROUNDS = int(_env_float("BENCH_ROUNDS", 3))
TRIAL_SECONDS = _env_float("BENCH_TRIAL_SECONDS", 2)  # per ceiling configuration tried
WARMUP_SECONDS = _env_float("BENCH_WARMUP_SECONDS", 1)  # per server, before the rounds
CLIENTS = int(_env_float("BENCH_CLIENTS", 8))  # closed-loop readers
BURST_ROUNDS = int(_env_float("BENCH_BURST_ROUNDS", 5))


def service_settings(env: dict, conf: str = SERVICE_CONF) -> dict:
    """The gunicorn settings the API is deployed with, read from its own configuration module."""
    code = (
        f"import json, {conf} as c; "
        "print(json.dumps({'workers': c.workers, 'threads': c.threads, 'keepalive': c.keepalive}))"
    )
    settings = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    settings["worker_class"] = "gthread" if settings["threads"] > 1 else "sync"
    return settings


def candidates(settings: dict) -> list[dict]:
    """The ceiling's configurations to try: sync workers, and threads with keep-alive off and on;
    reads with and without a transaction. As many workers as the API."""
    servers = [
        {"worker_class": "sync", "threads": 1, "keepalive": 0},
        {"worker_class": "gthread", "threads": settings["threads"], "keepalive": 0},
        {"worker_class": "gthread", "threads": settings["threads"], "keepalive": 5},
    ]
    return [
        {**server, "workers": settings["workers"], "autocommit": autocommit}
        for server in servers
        for autocommit in (True, False)
    ]


def label(config: dict) -> str:
    server = (
        "sync workers"
        if config["worker_class"] == "sync"
        else f"{config['threads']} threads/worker, keep-alive {config['keepalive']}s"
    )
    return f"{config['workers']} x {server}, pooled, {'autocommit' if config['autocommit'] else 'transaction'}"


class Servers:
    """The API, its bare ceilings and the worker, started and stopped by the bench."""

    def __init__(self, env: dict, tmp: Path, free_port, wait_http, *, service: str = "scheduling", conf=SERVICE_CONF):
        """``service`` and its gunicorn settings module ``conf``: scheduling's by default (coaching's bench
        uses the same servers)."""
        self.env, self.tmp, self.free_port, self.wait_http = env, tmp, free_port, wait_http
        self.service, self.conf = service, conf
        self.procs: list[subprocess.Popen] = []
        self.counts = tmp / "counts"

    def api(self) -> tuple[int, subprocess.Popen]:
        self.counts.mkdir(exist_ok=True)
        port = self.free_port()
        env = {**self.env, "BENCH_SERVICE_CONF": self.conf, "BENCH_COUNTS_DIR": str(self.counts)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:bench.counting_conf",
                "--bind",
                f"127.0.0.1:{port}",
                f"services.{self.service}.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        self.wait_http(port)
        return port, proc

    def bare(self, config: dict, plans: Path) -> tuple[int, subprocess.Popen]:
        port = self.free_port()
        prefix = self.service.upper()
        url = self.env[f"{prefix}_DATABASE_URL"]
        env = {
            **self.env,
            "BENCH_PLANS": str(plans),
            "BENCH_DSN": year._admin_url(url, _database(url)),
            "BENCH_DB_SCHEMA": self.env[f"{prefix}_DB_SCHEMA"],
            "BENCH_AUTOCOMMIT": "1" if config["autocommit"] else "0",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(config["workers"]),
                "--threads",
                str(config["threads"]),
                "--worker-class",
                config["worker_class"],
                "--keep-alive",
                str(config["keepalive"]),
                "bench.bare_app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        self.wait_http(port)
        return port, proc

    def cache_counts(self) -> dict:
        time.sleep(0.4)  # the workers write their counts four times a second
        total: dict = {}
        for path in self.counts.glob("*.json"):
            for name, value in json.loads(path.read_text()).items():
                total[name] = total.get(name, 0) + value
        return total

    def rss(self, proc: subprocess.Popen, name: str) -> dict:
        return {f"{name} pid {pid}": rss_mb(pid) for pid in process_tree(proc.pid)}

    def stop(self, proc: subprocess.Popen | None = None) -> None:
        for p in [proc] if proc else list(self.procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
            self.procs.remove(p)


def _database(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database


def _hit_rates(before: dict, after: dict) -> dict:
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    rates = {}
    if d.get("token_lookups"):
        rates["token_cache_hit_rate"] = 1 - d["token_verified"] / d["token_lookups"]
    if d.get("representation_lookups"):
        rates["representation_cache_hit_rate"] = d["representation_hits"] / d["representation_lookups"]
    return rates


# --- the data and the requests ------------------------------------------------------------------


def tokens_for(tokens, tenant: str) -> list[str]:
    return [
        tokens.token(ROLES[n % len(ROLES)], tenant, sub=f"dev-{ROLES[n % len(ROLES)]}-{tenant.lower()}-{n}")
        for n in range(USERS)
    ]


def _rows(env: dict, sql: str, params=()) -> list[tuple]:
    url = env["SCHEDULING_DATABASE_URL"]
    with psycopg.connect(year._admin_url(url, _database(url)), options=f"-csearch_path={year.SCHEMA}") as conn:
        return conn.execute(sql, params).fetchall()


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def by_id_requests(env: dict, tenant: str, tokens: list[str]) -> tuple[list[Request], list[Request]]:
    """GET of a random session of the jurisdiction (all of its sessions), by a random caller; and the
    same for the ceiling."""
    ids = [row[0] for row in _rows(env, "SELECT id FROM sessions WHERE tenant = %s", (tenant,))]
    rng = random.Random(tenant)
    service, bare = [], []
    for _ in range(min(len(ids) * 2, 20_000)):
        sid, token = rng.choice(ids), rng.choice(tokens)
        service.append(Request("GET", f"/sessions/{sid}", _auth(token)))
        bare.append(Request("GET", "/replay/by_id?" + urllib.parse.urlencode({"session_id": sid, "tenant": tenant})))
    return service, bare


def list_variant(query: dict) -> str:
    filters = sorted(name for name in ("status", "cohort_id", "from", "to") if name in query)
    return "list" + "".join(f"_{name}" for name in filters) + ("_cursor" if "cursor" in query else "")


def list_requests(app, env: dict, tenant: str, tokens: list[str], *, pages: int = 40) -> list[dict]:
    """Pages of the jurisdiction's sessions, with and without filters, their cursors taken from the
    pages before (crawled in process, so the API's caches start cold)."""
    rng = random.Random(f"list-{tenant}")
    cohorts = [row[0] for row in _rows(env, "SELECT id FROM cohorts WHERE tenant = %s", (tenant,))]
    starts = _rows(env, "SELECT min(starts_at), max(starts_at) FROM sessions WHERE tenant = %s", (tenant,))[0]
    span = (starts[1] - starts[0]).total_seconds()
    filters = [{}, {}, {}, {"status": "scheduled"}]
    filters += [{"from": (starts[0] + timedelta(seconds=rng.uniform(0, span))).isoformat()} for _ in range(3)]
    filters += [{"cohort_id": rng.choice(cohorts)} for _ in range(3)]
    filters += [
        {"from": starts[0].isoformat(), "to": (starts[0] + timedelta(days=60)).isoformat(), "status": "scheduled"}
    ]
    client, found = app.test_client(), []
    for query in filters:
        query = {"limit": "50", **query}
        for _ in range(pages):
            found.append(query)
            response = client.get("/sessions?" + urllib.parse.urlencode(query), headers=_auth(tokens[0]))
            if response.status_code != 200:
                raise RuntimeError(f"crawling the session list: {response.status_code} {response.get_data()[:200]}")
            link = response.headers.get("Link", "")
            if 'rel="next"' not in link:
                break
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link.split(">")[0].lstrip("<")).query))
    return found


def list_plan_inputs(query: dict, tenant: str) -> dict:
    inputs = {"tenant": tenant}
    for name in ("status", "cohort_id"):
        if name in query:
            inputs[name] = query[name]
    for name in ("from", "to"):
        if name in query:
            inputs[name] = datetime.fromisoformat(query[name])
    if "cursor" in query:
        inputs.update(same_sql.cursor_inputs(query["cursor"]))
    return inputs


def as_list_requests(queries: list[dict], tenant: str, tokens: list[str]):
    """The pages as the API's requests, the ceiling's (every statement of the page), and the keys-only
    ceiling's (its first statement: what the API runs when every item of the page is cached)."""
    rng = random.Random(f"list-requests-{tenant}")
    service, bare, keys = [], [], []
    for query in queries:
        for _ in range(4):  # each page asked by several callers
            service.append(Request("GET", "/sessions?" + urllib.parse.urlencode(query), _auth(rng.choice(tokens))))
            bare_query = urllib.parse.urlencode({"tenant": tenant, **{k: v for k, v in query.items() if k != "limit"}})
            bare.append(Request("GET", f"/replay/{list_variant(query)}?{bare_query}"))
            keys.append(Request("GET", f"/replay/{list_variant(query)}_keys?{bare_query}"))
    return service, bare, keys


def capture_plans(app, env: dict, tokens, list_queries: dict[str, list[dict]]) -> tuple[dict, dict]:
    """The SQL the API runs for a GET by id and for each kind of page, captured in process, each
    with the representation cache empty (the statements a page runs when none of it is cached)."""
    import gc

    from shared.http.representations import RepresentationCache

    def cold():
        for obj in gc.get_objects():
            if isinstance(obj, RepresentationCache):
                obj.clear()

    plans, shown = {}, {}
    tenant = year.BIG
    sid = _rows(env, "SELECT id FROM sessions WHERE tenant = %s LIMIT 1", (tenant,))[0][0]
    token = tokens.token("jurisdiction_admin", tenant)
    response, steps = same_sql.capture(
        app, "GET", f"/sessions/{sid}", _auth(token), {"session_id": sid, "tenant": tenant}
    )
    assert response.status_code == 200, response.get_data()
    plans["by_id"] = ({"session_id": sid, "tenant": tenant}, steps)
    shown["GET /sessions/<id>"] = same_sql.describe(steps)
    for tenant, queries in list_queries.items():
        for query in queries:
            variant = list_variant(query)
            if variant in plans:
                continue
            cold()
            inputs = list_plan_inputs(query, tenant)
            response, steps = same_sql.capture(
                app,
                "GET",
                "/sessions?" + urllib.parse.urlencode(query),
                _auth(tokens.token("jurisdiction_admin", tenant)),
                inputs,
            )
            assert response.status_code == 200, response.get_data()
            plans[variant] = (inputs, steps)
            plans[f"{variant}_keys"] = (inputs, steps[:1])  # the page's keys and versions only
            shown[f"GET /sessions ({variant.replace('_', ' ')})"] = same_sql.describe(steps)
    cold()
    return plans, shown


def in_process_app(env: dict):
    os.environ.update(env)
    from services.scheduling.app import create_app

    return create_app()


def _dispose(app) -> None:
    """Close the in-process app's connections (its database is copied or dropped next)."""
    app.extensions["service_context"].db.dispose()


# --- measuring -----------------------------------------------------------------------------------


def best_ceiling(servers: Servers, configs: list[dict], plans: Path, measure) -> tuple[dict, dict]:
    """Each configuration started and measured by ``measure(port, name)`` (its rate), one at a time
    (each holds its own connections); the fastest is kept running. Its config with its port, and
    every trial's rate."""
    trials, best, best_proc = {}, None, None
    for n, config in enumerate(configs):
        port, proc = servers.bare(config, plans)
        trials[label(config)] = rate = measure(port, f"trial{n}")
        if best is None or rate > best[1]:
            if best_proc is not None:
                servers.stop(best_proc)
            best, best_proc = (config | {"port": port, "proc": proc}, rate), proc
        else:
            servers.stop(proc)
    return best[0], {name: round(rate) for name, rate in trials.items()}


def _trial(requests: list[Request]):
    return lambda port, _name: run_load(port, requests, clients=CLIENTS, seconds=TRIAL_SECONDS)["rps"]


def interleaved(plans: dict, servers: Servers, *, clients: int) -> dict:
    """Closed-loop throughput of each plan ``{name: (port, requests, counts caches)}`` in ROUNDS
    interleaved rounds (a burst of other load on the machine then moves them alike); each figure the
    median round, with every round's rate."""
    for port, requests, _counted in plans.values():  # every server's workers warm (imports, pools, caches)
        run_load(port, requests, clients=clients, seconds=WARMUP_SECONDS, seed=99)
    measured = {name: [] for name in plans}
    for round_ in range(ROUNDS):
        for name, (port, requests, counted) in plans.items():
            before = servers.cache_counts() if counted else {}
            figure = run_load(port, requests, clients=clients, seconds=SECONDS / ROUNDS, seed=round_)
            if counted:
                figure.update(_hit_rates(before, servers.cache_counts()))
            measured[name].append(figure)
    results = {}
    for name, figures in measured.items():
        median = sorted(figures, key=lambda f: f["rps"])[(len(figures) - 1) // 2]  # the lower one of two
        median["rounds_rps"] = [round(f["rps"]) for f in figures]
        median["statuses"] = {k: sum(f["statuses"].get(k, 0) for f in figures) for k in median["statuses"]}
        results[name] = median
    return results


def read_figures(env: dict, tokens, servers: Servers, settings: dict, half: int, tmp: Path) -> dict:
    """GET by id and pages of sessions, for a big state and a small territory, against their ceilings."""
    app = in_process_app(env)
    users = {tenant: tokens_for(tokens, tenant) for tenant in (year.BIG, year.SMALL)}
    queries = {tenant: list_requests(app, env, tenant, users[tenant]) for tenant in users}
    plans, shown = capture_plans(app, env, tokens, queries)
    _dispose(app)
    plans_file = tmp / f"plans-{half}.pickle"
    import pickle

    plans_file.write_bytes(pickle.dumps(plans))
    figures = {"statements": shown, "rss": {}}
    api_port, api = servers.api()
    try:
        for tenant in users:
            by_id, bare_by_id = by_id_requests(env, tenant, users[tenant])
            pages, bare_pages, bare_keys = as_list_requests(queries[tenant], tenant, users[tenant])
            if tenant == year.BIG:  # the ceiling's configuration, chosen on the big state's requests
                by_id_best, by_id_trials = best_ceiling(servers, candidates(settings), plans_file, _trial(bare_by_id))
                list_best, list_trials = best_ceiling(servers, candidates(settings), plans_file, _trial(bare_pages))
                figures["ceiling_choice"] = {
                    "by_id": {"kept": label(by_id_best), "trials_rps": by_id_trials},
                    "list": {"kept": label(list_best), "trials_rps": list_trials},
                }
            measured = interleaved(
                {
                    "by_id": (api_port, by_id, True),
                    "by_id_ceiling": (by_id_best["port"], bare_by_id, False),
                    "list": (api_port, pages, True),
                    "list_ceiling": (list_best["port"], bare_pages, False),
                    "list_keys_ceiling": (list_best["port"], bare_keys, False),
                },
                servers,
                clients=CLIENTS,
            )
            for name in ("by_id", "list"):
                measured[name]["ratio"] = measured[name]["rps"] / measured[f"{name}_ceiling"]["rps"]
            measured["list"]["ratio_keys"] = measured["list"]["rps"] / measured["list_keys_ceiling"]["rps"]
            measured["list_half_load"] = run_paced(
                api_port, pages, rate=measured["list"]["rps"] / 2, seconds=SECONDS, seed=7
            )
            measured["sessions"] = _rows(env, "SELECT count(*) FROM sessions WHERE tenant = %s", (tenant,))[0][0]
            measured["pages_crawled"] = len(queries[tenant])
            figures[tenant] = measured
        figures["rss"].update(servers.rss(api, "scheduling-api"))
    finally:
        servers.stop()
    return figures


# --- registrations -------------------------------------------------------------------------------


def open_cohorts(env: dict, count: int, seats: int, tenant: str = year.BIG) -> list[str]:
    """``count`` new open cohorts of ``seats`` seats, as the API opens them (seats and waitlist spots)."""
    from services.scheduling.models import Cohort
    from services.scheduling.repository.seats import provide
    from shared.db import Database

    db = Database(env["SCHEDULING_DATABASE_URL"], schema=env["SCHEDULING_DB_SCHEMA"])
    ids = []
    try:
        with db.unit_of_work() as uow:
            for n in range(count):
                cohort = Cohort(
                    tenant=tenant,
                    series_id=str(uuid.uuid4()),
                    title=f"Bench cohort {n}",
                    format="virtual",
                    time_zone="America/Los_Angeles",
                    capacity=seats,
                    facilitators=[],
                    status="open",
                )
                uow.session.add(cohort)
                uow.session.flush()
                provide(uow.session, cohort.id, seats)
                ids.append(cohort.id)
            uow.commit()
    finally:
        db.dispose()
    return ids


BODY = json.dumps({"name": "Bench Person", "email": "person@example.org"}).encode()


def registration(cohort_id: str, token: str, *, keyed: bool) -> Request:
    headers = {**_auth(token), "Content-Type": "application/json"}
    if keyed:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return Request("POST", f"/cohorts/{cohort_id}/registrations", headers, BODY)


def bare_registration(cohort_id: str, participant: str, *, keyed: bool) -> Request:
    query = {"cohort_id": cohort_id, "participant": participant, "tenant": year.BIG}
    if keyed:
        query["key"] = str(uuid.uuid4())
    return Request("POST", f"/replay/register_{'key' if keyed else 'nokey'}?" + urllib.parse.urlencode(query))


def capture_registration(env: dict, tokens) -> tuple[dict, dict]:
    app = in_process_app(env)
    plans, shown = {}, {}
    for keyed in (True, False):
        cohort = open_cohorts(env, 1, BURST_SEATS)[0]
        sub = f"bench-capture-{uuid.uuid4().hex[:8]}"
        request = registration(cohort, tokens.token("participant", year.BIG, sub=sub), keyed=keyed)
        inputs = {"cohort_id": cohort, "participant": sub, "tenant": year.BIG}
        if keyed:
            inputs["key"] = request.headers["Idempotency-Key"]
        response, steps = same_sql.capture(app, "POST", request.path, request.headers, inputs, data=BODY)
        assert response.status_code == 201, response.get_data()
        name = f"register_{'key' if keyed else 'nokey'}"
        plans[name] = (inputs, steps)
        shown[f"POST /cohorts/<id>/registrations ({'with' if keyed else 'without'} Idempotency-Key)"] = (
            same_sql.describe(steps)
        )
    _dispose(app)
    return plans, shown


def rows_per_commit(env: dict, prefix: str) -> dict:
    """Registrations of participants named ``prefix…`` and the transactions that wrote them (xmin)."""
    rows, commits = _rows(
        env, "SELECT count(*), count(DISTINCT xmin::text) FROM registrations WHERE participant LIKE %s", (prefix + "%",)
    )[0]
    return {"rows": rows, "commits": commits, "rows_per_commit": rows / commits if commits else 0.0}


def seat_counts(env: dict, cohort_id: str) -> dict:
    return dict(
        _rows(env, "SELECT status, count(*) FROM registrations WHERE cohort_id = %s GROUP BY status", (cohort_id,))
    )


def registration_figures(env: dict, tokens, servers: Servers, settings: dict, tmp: Path) -> dict:
    """(a) bursts of CROWD on one cohort of BURST_SEATS; (b) CROWD clients over SPREAD_COHORTS cohorts,
    each with and without an Idempotency-Key; (b) also against the bare ceiling writing the same rows."""
    import pickle

    plans, shown = capture_registration(env, tokens)
    plans_file = tmp / "plans-registrations.pickle"
    plans_file.write_bytes(pickle.dumps(plans))
    figures = {"statements": shown, "rss": {}}
    spread = open_cohorts(env, SPREAD_COHORTS, 40)
    bursts = {keyed: open_cohorts(env, BURST_ROUNDS, BURST_SEATS) for keyed in (True, False)}
    api_port, api = servers.api()
    writing = [config for config in candidates(settings) if not config["autocommit"]]  # one transaction each
    try:
        for keyed in (True, False):
            mode = "key" if keyed else "nokey"
            rounds, exact = [], True
            for r, cohort in enumerate(bursts[keyed]):
                crowd = [
                    [
                        registration(
                            cohort,
                            tokens.token("participant", year.BIG, sub=f"bench-burst-{mode}-{r}-{k}"),
                            keyed=keyed,
                        )
                    ]
                    for k in range(CROWD)
                ]
                figure = run_sequences(api_port, crowd)
                counts = seat_counts(env, cohort)
                figure["confirmed"], figure["waitlisted"] = counts.get("confirmed", 0), counts.get("waitlisted", 0)
                exact &= figure["confirmed"] == BURST_SEATS and figure["waitlisted"] == CROWD - BURST_SEATS
                rounds.append(figure)
            figures[f"burst_{mode}"] = {
                "rounds": [
                    {k: f[k] for k in ("confirmed", "waitlisted", "p50_ms", "p99_ms", "statuses")} for f in rounds
                ],
                "p50_ms": max(f["p50_ms"] for f in rounds),
                "p99_ms": max(f["p99_ms"] for f in rounds),
                "exact": exact,
                "statuses": {k: sum(f["statuses"].get(k, 0) for f in rounds) for k in rounds[0]["statuses"]},
                **rows_per_commit(env, f"bench-burst-{mode}-"),
            }

        def spread_sequences(keyed: bool, who: str, bare: bool) -> list[list[Request]]:
            """Each client a person registering for the cohorts in an order of their own."""
            mode = "key" if keyed else "nokey"
            rng = random.Random(f"{who}-{mode}")
            sequences = []
            for k in range(CROWD):
                sub = f"bench-spread-{who}-{mode}-{k}"
                token = tokens.token("participant", year.BIG, sub=sub)
                order = rng.sample(spread, len(spread))
                sequences.append(
                    [
                        bare_registration(c, sub, keyed=keyed) if bare else registration(c, token, keyed=keyed)
                        for c in order
                    ]
                )
            return sequences

        def spread_load(keyed: bool, who: str, port: int, bare: bool) -> dict:
            sequences = spread_sequences(keyed, who, bare)
            before = servers.cache_counts()
            figure = run_sequences(port, sequences, seconds=SECONDS)
            if not bare:
                figure.update(_hit_rates(before, servers.cache_counts()))
            figure.update(rows_per_commit(env, f"bench-spread-{who}-{'key' if keyed else 'nokey'}-"))
            return figure

        for keyed in (True, False):
            mode = "key" if keyed else "nokey"
            best, trials = best_ceiling(
                servers,
                writing,
                plans_file,
                lambda port, name: run_sequences(port, spread_sequences(keyed, name, bare=True), seconds=TRIAL_SECONDS)[
                    "rps"
                ],
            )
            figures[f"spread_{mode}_ceiling_choice"] = {"kept": label(best), "trials_per_s": trials}
            figures[f"spread_{mode}"] = spread_load(keyed, "api", api_port, bare=False)
            figures[f"spread_{mode}_ceiling"] = spread_load(keyed, "bare", best["port"], bare=True)
            figures[f"spread_{mode}"]["ratio"] = (
                figures[f"spread_{mode}"]["rps"] / figures[f"spread_{mode}_ceiling"]["rps"]
            )
            servers.stop(best["proc"])
        figures["rss"].update(servers.rss(api, "scheduling-api"))
    finally:
        servers.stop()
    return figures


# --- the relay ----------------------------------------------------------------------------------


def relay_figures(env: dict, servers: Servers) -> dict:
    """The worker relays every pending outbox row (the registrations' events); every one must arrive."""
    import pika

    from shared.testing import pika_params

    namespace = env["BROKER_NAMESPACE"]
    pending = _rows(env, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
    connection = pika.BlockingConnection(pika_params(env["BROKER_URL"]))
    channel = connection.channel()
    exchange, queue = f"{namespace}events", f"{namespace}bench.sink"
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, routing_key="scheduling.#")
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.scheduling.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers.procs.append(worker)
    started = time.perf_counter()
    rss = {}
    try:
        while True:
            left = _rows(env, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
            rss = servers.rss(worker, "scheduling-worker") or rss
            if left == 0 or time.perf_counter() - started > 300:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        servers.stop(worker)
    delivered = channel.queue_declare(queue, passive=True).method.message_count
    connection.close()
    return {
        "sent": pending,
        "delivered": delivered,
        "left": left,
        "seconds": seconds,
        "events_per_s": pending / seconds if seconds else 0.0,
        "rss": rss,
    }
