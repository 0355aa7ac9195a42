"""``make bench``: the scheduling API on a national year, against this machine's own ceilings, checked.

1. A national year (``bench.national_year``) is copied from its cache (loaded the first time), first
   half of it, then all of it.
2. Reads, for a big state and a small territory: GET of a session by id (random ids and callers) and
   pages of 50 sessions (random filters, cursors taken from earlier pages), each against a bare Flask
   app replaying the SQL the API runs for the same request, under the fastest of the configurations
   tried in this run; the session list's p99 at half its throughput; cache hit rates.
3. Registrations over HTTP: bursts of 50 on a cohort of 20 seats, and 50 clients over 1,000 cohorts,
   with and without Idempotency-Key, the latter against the bare app writing the same rows.
4. The outbox relay publishes every event written; the bench counts what arrives.
5. The training-hours export at a national year's size (``bench/export.py``; BENCH_EXPORT_SCALE,
   default 0.1 of a year; BENCH_SKIP_EXPORT=1 leaves it out).
6. Notifications (``bench/notifications.py``): a session rescheduled for 1,000 registrants until the last
   e-mail reaches a local SMTP server, and signed webhook deliveries per second, each against plain
   smtplib or requests (BENCH_SKIP_NOTIFICATIONS=1 leaves it out).
7. Coaching on a national year (``bench/coaching.py``): caseloads, a jurisdiction's report and the
   national reach over HTTP (BENCH_COACHING_SCALE, default 1, the whole year; BENCH_SKIP_COACHING=1 leaves it out).
8. The event pipeline (``bench/pipeline.py``): scheduling's outbox through its relay and RabbitMQ to
   notifications' consumer commit, against raw pika with batched confirms and batched commits, and
   beside it a bare program doing the consumer's job (BENCH_SKIP_PIPELINE=1 leaves it out).

A figure taken while something went wrong (a 5xx, a wrong seat count, a lost event) is reported
FAILED, and ``make bench`` exits non-zero. PostgreSQL and RabbitMQ come from DATABASE_TEST_URL and
BROKER_TEST_URL (defaults: 127.0.0.1). See README.md ("Benchmarks") for the settings.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench import coaching, export, load, notifications, pipeline, scheduling
from bench import national_year as year
from shared.testing import AUDIENCE, ISSUER, POSTGRES_URL, RABBITMQ_URL, Tokens, spare_port

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "by_id": 0.70,
    "list": 0.50,
    "list_p99_ms": 50.0,
    "burst_p99_ms": 250.0,
    "spread": 0.50,
    "rss_mb": 150.0,
    "growth": 2.2,
}


def wait_http(port: int, path: str = "/healthz", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def delete_namespace(namespace: str) -> None:
    """The queues and exchanges the worker and the bench declared under ``namespace``."""
    from tests.helpers import delete_namespace as delete

    delete(RABBITMQ_URL, namespace)


def main() -> int:
    scale = year.scale()
    tmp = Path(tempfile.mkdtemp(prefix="t4t-bench-"))
    tokens = Tokens()
    key_file = tmp / "key.pem"
    key_file.write_bytes(tokens.private_pem)
    (tmp / "prometheus").mkdir()
    run_id = uuid.uuid4().hex[:8]
    run_db, namespace = f"t4t_bench_run_{run_id}", f"bench{run_id}."
    env = {
        **os.environ,
        "SCHEDULING_DATABASE_URL": year.database_url(POSTGRES_URL, run_db),
        "SCHEDULING_DB_SCHEMA": year.SCHEMA,
        "BROKER_URL": RABBITMQ_URL,
        "BROKER_NAMESPACE": namespace,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_DEV_PRIVATE_KEY_FILE": str(key_file),
        "DATA_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
        "PYTHONPATH": str(ROOT),
    }
    settings = scheduling.service_settings(env)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "settings": {
            "scale": scale,
            "seconds": scheduling.SECONDS,
            "rounds": scheduling.ROUNDS,
            "trial_seconds": scheduling.TRIAL_SECONDS,
            "readers": scheduling.CLIENTS,
            "crowd": scheduling.CROWD,
            "burst_rounds": scheduling.BURST_ROUNDS,
            "client_processes": load.client_processes(),
            "api": settings,
        },
        "load": {},
        "data": {},
        "reads": {},
    }
    servers = scheduling.Servers(env, tmp, spare_port, wait_http)
    try:
        for half in (1, 2):
            results["load"][half] = year.copy_year(POSTGRES_URL, scale, half, run_db)
            results["data"][half] = year.counts(env["SCHEDULING_DATABASE_URL"])
            results["reads"][half] = scheduling.read_figures(env, tokens, servers, settings, half, tmp)
        results["registrations"] = scheduling.registration_figures(env, tokens, servers, settings, tmp)
        results["relay"] = scheduling.relay_figures(env, servers)
        if not os.environ.get("BENCH_SKIP_EXPORT"):  # a database of its own, copied from the cached year
            results["export"] = export.export_figures(
                {**env, "SCHEDULING_DATABASE_URL": year.database_url(POSTGRES_URL, f"{run_db}_export")},
                tokens,
                scale=float(os.environ.get("BENCH_EXPORT_SCALE", "0.1")),
            )
        if not os.environ.get("BENCH_SKIP_NOTIFICATIONS"):  # its own schemas and broker namespaces
            results["notifications"] = notifications.figures()
        if not os.environ.get("BENCH_SKIP_COACHING"):  # coaching's own schema in the run's database
            results["coaching"] = coaching.coaching_figures(
                {**env, "COACHING_DATABASE_URL": env["SCHEDULING_DATABASE_URL"], "COACHING_DB_SCHEMA": "coaching"},
                tokens,
                scale=float(os.environ.get("BENCH_COACHING_SCALE", "1")),
            )
        if not os.environ.get("BENCH_SKIP_PIPELINE"):  # a vhost and schemas of its own
            results["pipeline"] = pipeline.figures()
    finally:
        servers.stop()
        year.drop_database(POSTGRES_URL, run_db)
        delete_namespace(namespace)
        if os.environ.get("BENCH_KEEP_YEAR", "1") == "0":
            year.drop_cached_years(POSTGRES_URL)
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_average_after"] = os.getloadavg()
    results["verdicts"] = all_verdicts(results)
    report(results)
    if "export" in results:
        export.report(results["export"])
    if "notifications" in results:
        notifications.report(results["notifications"])
    if "coaching" in results:
        coaching.report(results["coaching"])
    if "pipeline" in results:
        pipeline.report(results["pipeline"])
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    return 1 if any(v["verdict"] == "FAILED" for v in results["verdicts"]) else 0


def all_verdicts(results: dict) -> list[dict]:
    """Every section's verdicts in the one list the run's exit status and its final report come from."""
    out = verdicts(results)
    if "notifications" in results:
        out += notifications.verdicts(results["notifications"])
    if "coaching" in results:
        out += coaching.verdicts(results["coaching"])
    if "pipeline" in results:
        out += pipeline.verdicts(results["pipeline"])
    return out


def _errors(figure: dict) -> int:
    statuses = figure.get("statuses", {})
    return statuses.get("5xx", 0) + statuses.get("failed", 0)


def verdicts(r: dict) -> list[dict]:
    """Every target as PASS or MISS, and every check as FAILED when it did not hold."""
    out = []

    def add(name: str, ok: bool, detail: str, *, check: bool = False) -> None:
        out.append({"name": name, "verdict": ("PASS" if ok else ("FAILED" if check else "MISS")), "detail": detail})

    for half, reads in r["reads"].items():
        size = "half year" if half == 1 else "full year"
        for tenant in (year.BIG, year.SMALL):
            f = reads[tenant]
            for name in ("by_id", "by_id_ceiling", "list", "list_ceiling", "list_keys_ceiling", "list_half_load"):
                errors = _errors(f[name])
                add(f"{name} {tenant} {size}: no 5xx or failed request", errors == 0, f"{errors} errors", check=True)
            add(
                f"GET by id {tenant} {size} >= {TARGETS['by_id']:.0%} of ceiling",
                f["by_id"]["ratio"] >= TARGETS["by_id"],
                f"{f['by_id']['ratio']:.1%}",
            )
            # Against the faster of its two ceilings: every statement of a page, or its first one only
            # (what the API runs when its representation cache holds the whole page).
            ratio = min(f["list"]["ratio"], f["list"]["ratio_keys"])
            add(
                f"page of 50 {tenant} {size} >= {TARGETS['list']:.0%} of the faster ceiling",
                ratio >= TARGETS["list"],
                f"{ratio:.1%}",
            )
            p99 = f["list_half_load"]["p99_ms"]
            add(
                f"page of 50 {tenant} {size} p99 at half load < {TARGETS['list_p99_ms']:.0f} ms",
                p99 < TARGETS["list_p99_ms"],
                f"{p99:.1f} ms",
            )
    if 1 in r["reads"] and 2 in r["reads"]:
        for tenant in (year.BIG, year.SMALL):
            for name in ("by_id", "list"):
                growth = r["reads"][1][tenant][name]["rps"] / r["reads"][2][tenant][name]["rps"]
                add(
                    f"{name} {tenant}: time per request half -> full year <= {TARGETS['growth']}x",
                    growth <= TARGETS["growth"],
                    f"{growth:.2f}x",
                )
    reg = r.get("registrations", {})
    for mode in ("key", "nokey"):
        burst = reg.get(f"burst_{mode}")
        if burst:
            add(
                f"burst ({mode}): exactly {scheduling.BURST_SEATS} confirmed every round",
                burst["exact"],
                ", ".join(f"{b['confirmed']}/{b['waitlisted']}" for b in burst["rounds"]),
                check=True,
            )
            add(
                f"burst ({mode}): no 5xx or failed request", _errors(burst) == 0, f"{_errors(burst)} errors", check=True
            )
            add(
                f"burst ({mode}): p99 < {TARGETS['burst_p99_ms']:.0f} ms",
                burst["p99_ms"] < TARGETS["burst_p99_ms"],
                f"{burst['p99_ms']:.0f} ms",
            )
        spread = reg.get(f"spread_{mode}")
        if spread:
            for name in (f"spread_{mode}", f"spread_{mode}_ceiling"):
                add(
                    f"{name}: no 5xx or failed request",
                    _errors(reg[name]) == 0,
                    f"{_errors(reg[name])} errors",
                    check=True,
                )
                add(
                    f"{name}: every registration answered is written",
                    reg[name]["rows"] == reg[name]["ok"],
                    f"{reg[name]['ok']} answered, {reg[name]['rows']} rows",
                    check=True,
                )
            add(
                f"spread ({mode}) >= {TARGETS['spread']:.0%} of the bare app",
                spread["ratio"] >= TARGETS["spread"],
                f"{spread['ratio']:.1%}",
            )
    relay = r.get("relay")
    if relay:
        add(
            "relay: every event sent arrived",
            relay["delivered"] == relay["sent"] and relay["left"] == 0,
            f"{relay['sent']} sent, {relay['delivered']} delivered, {relay['left']} left",
            check=True,
        )
    rss = {
        **{k: v for reads in r["reads"].values() for k, v in reads["rss"].items()},
        **reg.get("rss", {}),
        **(relay or {}).get("rss", {}),
    }
    worst = max(rss.values()) if rss else 0.0
    add(
        f"no process above {TARGETS['rss_mb']:.0f} MB RSS",
        worst < TARGETS["rss_mb"],
        f"largest {worst:.1f} MB ({max(rss, key=rss.get) if rss else '-'})",
    )
    return out


def _rates(f: dict) -> str:
    parts = []
    if "token_cache_hit_rate" in f:
        parts.append(f"token cache {f['token_cache_hit_rate']:.0%}")
    if "representation_cache_hit_rate" in f:
        parts.append(f"representation cache {f['representation_cache_hit_rate']:.0%}")
    return ("; hits: " + ", ".join(parts)) if parts else ""


def report(r: dict) -> None:
    s, api = r["settings"], r["settings"]["api"]
    print(
        f"\nmake bench: scheduling on a national year at BENCH_SCALE={s['scale']}, "
        f"{s['readers']} readers, {s['seconds']:g} s per figure in {s['rounds']} interleaved rounds (median), "
        f"ceiling trials {s['trial_seconds']:g} s each; clients on {s['client_processes']} processes; "
        f"{r['machine']['cpus']} CPUs, load average {r['machine']['load_average'][0]:.1f} before, "
        f"{r['machine']['load_average_after'][0]:.1f} after"
    )
    print(
        f"API as deployed ({scheduling.SERVICE_CONF}): {api['workers']} workers x {api['threads']} threads "
        f"({api['worker_class']}), keep-alive {api['keepalive']} s"
    )
    statements = {
        **next(iter(r["reads"].values()), {}).get("statements", {}),
        **r.get("registrations", {}).get("statements", {}),
    }
    print("SQL the ceilings replay, captured from the API (each statement, and where its parameters come from):")
    for what, lines in statements.items():
        if what.startswith("GET /sessions (") and what not in ("GET /sessions (list)", "GET /sessions (list cursor)"):
            continue  # the other kinds of page differ only by their filters; all are in var/bench.json
        print(f"   {what}")
        for line in lines:
            print(f"     {line}")
    for half, reads in r["reads"].items():
        data = r["data"][half]
        loading = r["load"][half]
        print(
            f"\n== {'half' if half == 1 else 'full'} year: {data['sessions']:,} sessions, "
            f"{data['cohorts']:,} cohorts, "
            f"{data['registrations']:,} registrations, {data['attendance']:,} attendance marks, "
            f"{data['completions']:,} completions "
            f"({'; '.join(f'{k} {v:.1f} s' for k, v in loading.items())})"
        )
        for name, choice in reads["ceiling_choice"].items():
            print(
                f"   ceiling for {name}: kept {choice['kept']}  (tried, req/s: "
                f"{'; '.join(f'{k}: {v}' for k, v in choice['trials_rps'].items())})"
            )
        for tenant in (year.BIG, year.SMALL):
            f = reads[tenant]
            print(f"   {tenant} ({f['sessions']:,} sessions, {f['pages_crawled']} pages crawled)")
            for name, what in (("by_id", "GET /sessions/<id>"), ("list", "GET /sessions?limit=50 (+filters, cursors)")):
                g, c = f[name], f[f"{name}_ceiling"]
                print(
                    f"     {what:<44} {g['rps']:7.0f} req/s = {g['ratio']:6.1%} of {c['rps']:.0f} "
                    f"(same SQL, bare); p50 {g['p50_ms']:.1f} ms p99 {g['p99_ms']:.1f} ms; rounds {g['rounds_rps']} "
                    f"vs {c['rounds_rps']}{_rates(g)}"
                )
            k = f["list_keys_ceiling"]
            print(
                f"     {'':<44} {'':>7}         = {f['list']['ratio_keys']:6.1%} of {k['rps']:.0f} (its first "
                f"statement only, bare: the page's keys, as when every item is cached); rounds {k['rounds_rps']}"
            )
            h = f["list_half_load"]
            print(
                f"     list at half load ({h['offered_rps']:.0f} req/s offered): p50 {h['p50_ms']:.1f} ms, "
                f"p99 {h['p99_ms']:.1f} ms ({h['requests']} requests)"
            )
    reg = r.get("registrations")
    if reg:
        print("\n== registrations over HTTP (self-registration, participant tokens)")
        for mode, what in (("key", "with Idempotency-Key"), ("nokey", "without key")):
            b = reg[f"burst_{mode}"]
            seats = ", ".join(f"{x['confirmed']}/{x['waitlisted']}" for x in b["rounds"])
            print(
                f"   burst {what:<22} {scheduling.CROWD} at once on {scheduling.BURST_SEATS} seats x "
                f"{len(b['rounds'])}: confirmed/waitlisted {seats}; "
                f"worst round p50 {b['p50_ms']:.0f} ms p99 {b['p99_ms']:.0f} ms; "
                f"{b['rows_per_commit']:.1f} rows per commit"
            )
            g, c = reg[f"spread_{mode}"], reg[f"spread_{mode}_ceiling"]
            print(
                f"   spread {what:<21} {scheduling.CROWD} clients over {scheduling.SPREAD_COHORTS} cohorts: "
                f"{g['rps']:.0f} /s = {g['ratio']:.1%} of {c['rps']:.0f} /s (bare, same rows per registration); "
                f"p99 {g['p99_ms']:.0f} ms vs {c['p99_ms']:.0f} ms; rows per commit {g['rows_per_commit']:.2f} "
                f"vs {c['rows_per_commit']:.2f}{_rates(g)}"
            )
            choice = reg[f"spread_{mode}_ceiling_choice"]
            print(
                f"     ceiling kept {choice['kept']} (tried, /s: "
                f"{'; '.join(f'{k}: {v}' for k, v in choice['trials_per_s'].items())})"
            )
    relay = r.get("relay")
    if relay:
        print(
            f"\n== outbox relay: {relay['sent']} events sent, {relay['delivered']} delivered, "
            f"{relay['events_per_s']:.0f} events/s from the worker's start"
        )
    print("\n== verdicts")
    for v in r["verdicts"]:
        print(f"   {v['verdict']:<6} {v['name']}: {v['detail']}")
    failed = [v for v in r["verdicts"] if v["verdict"] == "FAILED"]
    print(
        f"\n{'FAILED' if failed else 'checked'}: {len(failed)} checks failed; "
        f"{sum(v['verdict'] == 'MISS' for v in r['verdicts'])} targets missed; details in var/bench.json"
    )


if __name__ == "__main__":
    raise SystemExit(main())
