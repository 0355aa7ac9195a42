"""``python -m bench.portal`` (the last part of ``make bench``): the portal's pages under 20 concurrent people.

The content, scheduling and coaching APIs and the portal run as deployed (gunicorn, ``WEB_CONCURRENCY``
workers each; the content, scheduling and coaching workers beside them) on the embedded default in a
folder of the run's own. A cohort of nine sessions with 20 participants, attendance and certificates
(the training for trainers: each completion opens a coaching plan, with two support activities logged),
and a learning community of the same participants with a year of monthly calls, threads and a work plan,
are set up through the APIs; then 20 people, each signed in to the portal with their own session
(coordinators, facilitators, a specialist, participants), load their main pages in a loop for
``BENCH_PORTAL_SECONDS`` (60) after a warm-up, ``BENCH_PORTAL_THINK`` (1) seconds apart.
Every figure includes the API calls behind the page. Targets: p99 under 200 ms for every page, at
most three API calls per page (the page's ``X-API-Calls`` header), no error. Results go to ``var/bench-portal.json``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from shared.auth import load_or_create_dev_key, mint_token
from shared.testing import spare_port

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("BENCH_PORTAL_USERS", "20"))
SECONDS = float(os.environ.get("BENCH_PORTAL_SECONDS", "60"))  # long enough for a p99 of each page
WARMUP = float(os.environ.get("BENCH_PORTAL_WARMUP", "3"))
# A person reads a page before the next one: the pause between two pages of one person (0: a closed
# loop, which measures how many pages the machine can serve rather than what a person waits).
THINK = float(os.environ.get("BENCH_PORTAL_THINK", "1.0"))
P99_TARGET_MS, MAX_CALLS = 200.0, 3


def start(env: dict, folder: Path) -> tuple[dict, list[subprocess.Popen]]:
    ports = {name: spare_port() for name in ("content", "scheduling", "coaching", "portal")}
    env.update(
        CONTENT_PORT=str(ports["content"]), SCHEDULING_PORT=str(ports["scheduling"]), PORTAL_PORT=str(ports["portal"]),
        COACHING_PORT=str(ports["coaching"]), PORTAL_COACHING_URL=f"http://127.0.0.1:{ports['coaching']}",
    )  # fmt: skip
    for service in ("content", "scheduling", "coaching"):
        for command in ("migrate", "seed"):
            subprocess.run(
                [sys.executable, "-m", f"services.{service}.manage", command], cwd=ROOT, env=env, check=True,
                capture_output=True,
            )  # fmt: skip
    commands = {
        "content": ["python:shared.gunicorn_conf", "services.content.wsgi:app"],
        "scheduling": ["python:services.scheduling.gunicorn_conf", "services.scheduling.wsgi:app"],
        "coaching": ["python:services.coaching.gunicorn_conf", "services.coaching.wsgi:app"],
        "portal": ["python:services.portal.gunicorn_conf", "services.portal.wsgi:app"],
    }
    processes = []

    def start(name: str, command: list[str]) -> None:
        log = (folder / f"{name}.log").open("wb")
        processes.append(
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )  # fmt: skip
        )

    for name, (conf, app) in commands.items():
        start(name, [sys.executable, "-m", "gunicorn", "-c", conf, "--bind", f"127.0.0.1:{ports[name]}", app])
    # Scheduling learns of a learning community from content's events, coaching of completions from
    # scheduling's: their workers carry them.
    for name in ("content-worker", "scheduling-worker", "coaching-worker"):
        start(name, [sys.executable, "-m", f"services.{name.split('-')[0]}.worker"])
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    deadline = time.monotonic() + 60
    for base in bases.values():
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{base} did not start; see the logs in {folder}")
            time.sleep(0.2)
    return bases, processes


def set_up(bases: dict, key: bytes) -> dict:
    """A cohort of nine sessions, 20 participants, the first session's attendance (and so certificates)."""

    def token(role, tenant="CA", sub=None):
        return mint_token(
            key, issuer="http://localhost/dev-issuer", audience="t4t-platform",
            sub=sub or f"dev-{role}-{tenant.lower()}", tenant=tenant, roles=[role],
        )  # fmt: skip

    def call(method, url, who, body=None):
        response = requests.request(method, url, json=body, headers={"Authorization": f"Bearer {who}"}, timeout=30)
        response.raise_for_status()
        return response.json()

    admin, api = token("jurisdiction_admin"), bases["scheduling"]
    series = call("GET", f"{bases['content']}/series", admin)["items"][0]
    modules = call("GET", f"{bases['content']}/series/{series['id']}/modules", admin)["items"]
    agency = call(
        "POST", f"{api}/agencies", admin, {"name": "Bench agency", "coordinators": ["dev-agency_coordinator-ca"]}
    )
    cohort = call("POST", f"{api}/cohorts", admin, {
        "series_id": series["id"], "title": "Bench cohort", "format": "virtual", "capacity": 30,
        "host_agency_id": agency["id"], "facilitators": ["dev-facilitator-ca"], "completion_minimum": 1,
    })  # fmt: skip
    first = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0) - timedelta(days=10)
    sessions = []
    for module in modules:
        start_at = first + timedelta(days=module["position"])
        sessions.append(call("POST", f"{api}/cohorts/{cohort['id']}/sessions", admin, {
            "module_id": module["id"], "module_position": module["position"], "title": module["title"],
            "starts_at": start_at.isoformat(), "ends_at": (start_at + timedelta(hours=2)).isoformat(),
            "meeting_url": "https://meet.example.org/bench",
        }))  # fmt: skip
    registrations = [
        call("POST", f"{api}/cohorts/{cohort['id']}/registrations", admin,
             {"participant": f"bench-{n:02d}", "name": f"Participant {n}", "email": f"p{n}@example.org"})
        for n in range(20)
    ]  # fmt: skip
    # The series is the training for trainers: each completion opens a plan with the default specialist.
    call("PUT", f"{bases['coaching']}/trainer-series/{series['id']}", token("national_admin", "US"))
    call("PATCH", f"{bases['coaching']}/settings", admin, {"default_specialist": "dev-specialist-ca"})
    call("PUT", f"{api}/sessions/{sessions[0]['id']}/attendance", admin,
         {"records": [{"registration_id": r["id"], "status": "present"} for r in registrations]})  # fmt: skip
    code = call("GET", f"{api}/cohorts/{cohort['id']}/completions", admin)["items"][0]["certificate_code"]
    coaching(bases["coaching"], admin, token("specialist", sub="dev-specialist-ca"), call)
    return {
        "cohort": cohort["id"],
        "session": sessions[0]["id"],
        "code": code,
        "community": learning_community(bases, token("national_admin", "US"), call),
    }


def coaching(api: str, admin: str, specialist: str, call) -> None:
    """The 20 plans the completions open, and two support activities logged with each trainer."""
    deadline = time.monotonic() + 60
    while len(call("GET", f"{api}/plans?limit=50", admin)["items"]) < 20:
        if time.monotonic() > deadline:
            raise SystemExit("coaching did not open the 20 plans from scheduling's completion events")
        time.sleep(0.2)
    today = datetime.now(UTC).date()
    for n in range(20):
        for days, kind in ((7, "consultation"), (2, "coaching")):
            call("POST", f"{api}/activities", specialist, {
                "trainer": f"bench-{n:02d}", "kind": kind, "occurred_on": (today - timedelta(days=days)).isoformat(),
                "duration_minutes": 45, "mode": "virtual", "practices": ["primary-caregiving"],
                "notes": "Planning the first sessions.", "follow_up_on": (today + timedelta(days=n % 14)).isoformat(),
            })  # fmt: skip


def learning_community(bases: dict, staff: str, call) -> str:
    """A community the participants are members of: a year of monthly calls, threads and a work plan."""
    community = call("POST", f"{bases['content']}/communities", staff, {
        "title": "Bench community", "focus_area": "specialist_networks", "starts_on": "2027-01-04",
        "facilitators": [{"sub": "dev-national_admin-us", "name": "Nat National"}],
    })["id"]  # fmt: skip
    base = f"{bases['content']}/communities/{community}"
    for n in range(20):
        call("POST", f"{base}/members", staff,
             {"sub": f"bench-{n:02d}", "kind": "team_member", "jurisdiction": "CA", "name": f"Participant {n}"})  # fmt: skip
    for n in range(10):
        call("POST", f"{base}/threads", staff, {"title": f"Thread {n}", "body": "What works in your state?"})
    for n in range(10):
        call(
            "POST",
            f"{base}/work-items",
            staff,
            {"kind": "task", "title": f"Task {n}", "due_on": f"2027-0{n % 9 + 1}-15"},
        )
    calls = f"{bases['scheduling']}/communities/{community}/calls"
    deadline = time.monotonic() + 60
    while requests.get(calls, headers={"Authorization": f"Bearer {staff}"}, timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            raise SystemExit("scheduling did not learn of the bench community from content's events")
        time.sleep(0.2)
    call("POST", calls, staff, {
        "kind": "interactive_call", "title": "Monthly community call", "local_start": "2027-01-12T14:00:00",
        "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=12", "meeting_url": "https://meet.example.org/bench",
    })  # fmt: skip
    return community


def people(story: dict) -> list[tuple[dict, list[str]]]:
    """Who signs in (the sign-in form's fields) and the pages they load, in turn."""
    coordinator = [
        ("/cohorts", "/cohorts"),
        ("/cohorts/<id>", f"/cohorts/{story['cohort']}"),
        ("/cohorts/<id>/completions", f"/cohorts/{story['cohort']}/completions"),
        ("/cohorts/<id>/settings", f"/cohorts/{story['cohort']}/settings"),
        ("/cohorts/new", "/cohorts/new"),
        ("/agencies", "/agencies"),
    ]
    facilitator = [
        ("/my/sessions", "/my/sessions"),
        ("/sessions/<id>/attendance", f"/sessions/{story['session']}/attendance"),
        ("/my/office-hours", "/my/office-hours"),
    ]
    participant = [
        ("/my/training", "/my/training"),
        ("/trainings", "/trainings"),
        ("/my/hours", "/my/hours"),
        ("/verify/<code>", f"/verify/{story['code']}"),
        ("/communities/<id>", f"/communities/{story['community']}"),
        ("/my/commitment", "/my/commitment"),
    ]
    chosen = []
    for n in range(USERS):
        if n % 10 < 3:
            chosen.append(({"role": "agency_coordinator", "tenant": "CA"}, coordinator))
        elif n % 10 == 5:
            # The specialist supporting the 20 trainers: the caseload, one trainer's page, the report.
            specialist = [
                ("/coach", "/coach"),
                ("/coach/trainers/<sub>", f"/coach/trainers/bench-{n % 20:02d}"),
                ("/coach/report", "/coach/report"),
            ]
            chosen.append(({"role": "specialist", "tenant": "CA", "name": "Sam Specialist"}, specialist))
        elif n % 10 < 6:
            # Named, as a real sign-in is: signing in enters her in the facilitators' directory.
            chosen.append(({"role": "facilitator", "tenant": "CA", "name": "Fran Facilitator"}, facilitator))
        else:
            sub = f"bench-{n % 20:02d}"
            chosen.append(
                ({"role": "participant", "tenant": "CA", "sub": sub, "zone": "America/New_York"}, participant)
            )
    return chosen


def run(portal: str, chosen: list) -> dict:
    timings: dict[str, list[float]] = {}
    calls: dict[str, int] = {}
    parts: dict[str, list[tuple[float, float, float, float]]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    warm_until = time.monotonic() + WARMUP
    stop_at = warm_until + SECONDS

    def person(form: dict, paths: list[str]) -> None:
        browser = requests.Session()
        sign_in = browser.get(f"{portal}/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', sign_in).group(1)  # as the sign-in page's form
        browser.post(f"{portal}/sign-in", data={**form, "csrf_token": token}, timeout=10).raise_for_status()
        i = 0
        while (now := time.monotonic()) < stop_at:
            page, path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            detail = ""
            try:
                response = browser.get(f"{portal}{path}", timeout=10)
                elapsed = (time.perf_counter() - started) * 1000
                ok = response.status_code == 200
            except requests.RequestException as error:
                elapsed, ok, response = 0.0, False, None
                detail = type(error).__name__
            if THINK:
                time.sleep(THINK)
            if now < warm_until:
                continue
            with lock:
                if not ok:
                    errors.append(f"{path}: {response.status_code if response is not None else detail}")
                    continue
                timings.setdefault(page, []).append(elapsed)
                portal_ms, api_ms = server_timing(response.headers.get("Server-Timing", ""))
                # Of the page's time: the APIs, the portal's own work, and the rest (waiting for a
                # portal thread, the network and this client's own threads).
                parts.setdefault(page, []).append((elapsed, api_ms, portal_ms - api_ms, elapsed - portal_ms))
                calls[page] = max(calls.get(page, 0), int(response.headers.get("X-API-Calls", "0")))

    threads = [threading.Thread(target=person, args=entry) for entry in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"timings": timings, "calls": calls, "errors": errors, "parts": parts}


def server_timing(header: str) -> tuple[float, float]:
    """The portal's ``Server-Timing``: (the whole page in the portal, the API calls in it), in ms."""
    durations = dict(re.findall(r"(\w+);dur=([\d.]+)", header))
    return float(durations.get("page", 0)), float(durations.get("api", 0))


def slowest_share(parts: list[tuple[float, float, float, float]]) -> dict:
    """Where the slowest 2 % of a page's requests spent their time, on average (ms): the p99's makeup."""
    slowest = sorted(parts, reverse=True)[: max(1, len(parts) // 50)]
    n = len(slowest)
    return {
        "requests": n,
        "apis_ms": round(sum(p[1] for p in slowest) / n, 1),
        "portal_ms": round(sum(p[2] for p in slowest) / n, 1),
        "outside_ms": round(sum(p[3] for p in slowest) / n, 1),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_URL", "BROKER_", "PORTAL_"))}
    env.update(
        DATA_DIR=str(folder),
        LOG_LEVEL=os.environ.get("BENCH_PORTAL_LOG_LEVEL", "WARNING"),
        WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    bases, processes = start(env, folder)
    try:
        story = set_up(bases, load_or_create_dev_key(folder / "dev-signing-key.pem"))
        result = run(bases["portal"], people(story))
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    everything = [t for values in result["timings"].values() for t in values]
    report = {
        "users": USERS,
        "seconds": SECONDS,
        "think_seconds": THINK,
        "web_concurrency": env["WEB_CONCURRENCY"],
        "pages": {
            page: {
                "requests": len(values),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 0.95), 1),
                "p99_ms": round(percentile(values, 0.99), 1),
                "api_calls": result["calls"][page],
                "slowest": slowest_share(result["parts"][page]),
            }
            for page, values in sorted(result["timings"].items())
        },
        "all": {"requests": len(everything), "p99_ms": round(percentile(everything, 0.99), 1) if everything else None},
        "errors": result["errors"][:20],
        "error_count": len(result["errors"]),
    }
    passed = (
        everything
        and not result["errors"]
        and all(p["p99_ms"] < P99_TARGET_MS and p["api_calls"] <= MAX_CALLS for p in report["pages"].values())
    )
    report["verdict"] = "ok" if passed else "FAILED"
    out = ROOT / "var" / "bench-portal.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(
        f"\nPortal pages, {USERS} people for {SECONDS:g} s, {THINK:g} s between a person's pages "
        f"(WEB_CONCURRENCY={env['WEB_CONCURRENCY']} per process):"
    )
    print(f"  {'page':<28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'API calls':>9}")
    for page, figures in report["pages"].items():
        print(
            f"  {page:<28} {figures['requests']:>8} {figures['p50_ms']:>8} {figures['p95_ms']:>8} "
            f"{figures['p99_ms']:>8} {figures['api_calls']:>9}"
        )
    print("  the slowest 2 % of each page, on average (ms): APIs + the portal's own work + outside the portal")
    for page, figures in report["pages"].items():
        share = figures["slowest"]
        print(f"  {page:<28} {share['apis_ms']:>8} {share['portal_ms']:>8} {share['outside_ms']:>8}")
    print(f"  all pages: p99 {report['all']['p99_ms']} ms over {report['all']['requests']} requests; "
          f"errors: {report['error_count']}")  # fmt: skip
    print(f"  target: p99 < {P99_TARGET_MS:g} ms and at most {MAX_CALLS} API calls per page: {report['verdict']}")
    print(f"  written to {out}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
