"""The embedded default under a small agency's write load: the scheduling API (two gunicorn workers
with their threads) and its worker (outbox relay) are separate processes writing one SQLite file.
Every write waits its turn and succeeds: no "database is locked", no 500, with and without
Idempotency-Key, and a retried key never makes a duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from services.scheduling.models import Registration, TrainingSession, platform
from shared.db import Database
from shared.testing import AUDIENCE, ISSUER, spare_port, wait_until
from tests.scheduling import factories

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 40  # with a key, and as many again without


@pytest.fixture
def scheduling_processes(tmp_path, signing_key_file):
    port = spare_port()
    url = f"sqlite:///{tmp_path / 'scheduling.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_URL", "BROKER_", "SCHEDULING_"))}
    env.update(
        DATA_DIR=str(tmp_path),
        SCHEDULING_DATABASE_URL=url,
        SCHEDULING_PORT=str(port),
        JWT_ISSUER=ISSUER,
        JWT_AUDIENCE=AUDIENCE,
        JWT_DEV_PRIVATE_KEY_FILE=signing_key_file,
        WEB_CONCURRENCY="2",
        LOG_LEVEL="WARNING",
        OUTBOX_POLL_INTERVAL="0.01",
    )
    for command in ("migrate", "seed"):
        subprocess.run(
            [sys.executable, "-m", "services.scheduling.manage", command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    db = Database(url)
    with db.unit_of_work() as uow:
        cohort = factories.cohort(uow.session, capacity=30, sessions=1)
        uow.commit()
    # Their logs go to files: a pipe read only at the end would block a process that logs more than it holds.
    logs = [tmp_path / "api.log", tmp_path / "worker.log"]
    commands = (
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:services.scheduling.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "services.scheduling.wsgi:app",
        ],
        [sys.executable, "-m", "services.scheduling.worker"],
    )
    processes = []
    for log, command in zip(logs, commands, strict=True):
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=out, start_new_session=True
                )
            )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return requests.get(f"{base}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(healthy, timeout=60, interval=0.2, message="the scheduling API to answer")
        yield {"base": base, "db": db, "cohort_id": cohort.id}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        errors = [log.read_text() for log in logs]
        db.dispose()
        # pytest shows it only when the test fails: whether a slow drain was the relay backing off, and why.
        print("the worker's log (its relay's pauses and their errors):", errors[1][-4000:] or "empty", sep="\n")
        assert not any("database is locked" in e for e in errors), errors


def test_concurrent_writers_with_and_without_keys_all_succeed_once(scheduling_processes, tokens):
    base, db, cohort_id = (scheduling_processes[k] for k in ("base", "db", "cohort_id"))
    coordinator = tokens.headers("agency_coordinator", "CA", sub="coord-ca")
    day = datetime.now(UTC).replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=60)

    def register(n: int, keyed: bool):
        sub = f"{'k' if keyed else 'u'}-{n}"
        headers = tokens.headers("participant", "CA", sub=sub)
        if keyed:
            headers["Idempotency-Key"] = f"register-{sub}"
        return requests.post(
            f"{base}/cohorts/{cohort_id}/registrations",
            headers=headers,
            timeout=60,
            json={"name": sub, "email": f"{sub}@example.org"},
        )

    def schedule(n: int):
        starts = day + timedelta(days=n)
        return requests.post(
            f"{base}/cohorts/{cohort_id}/sessions",
            headers=coordinator,
            timeout=60,
            json={
                "module_id": f"module-{n}",
                "title": f"Extra session {n}",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "meeting_url": "https://meet.example.org/rbc",
            },
        )

    with ThreadPoolExecutor(max_workers=100) as pool:
        keyed = [pool.submit(register, n, True) for n in range(PEOPLE)]
        unkeyed = [pool.submit(register, n, False) for n in range(PEOPLE)]
        sessions = [pool.submit(schedule, n) for n in range(20)]
        answers = [f.result() for f in keyed + unkeyed + sessions]
    assert [a.status_code for a in answers] == [201] * len(answers), [a.text for a in answers if a.status_code != 201][
        :3
    ]

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        retries = list(pool.map(lambda n: register(n, True), range(PEOPLE)))
    assert [r.status_code for r in retries] == [201] * PEOPLE
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in retries)
    assert [r.json()["id"] for r in retries] == [a.json()["id"] for a in answers[:PEOPLE]]

    with db.session() as session:
        registrations = session.execute(
            select(Registration.status, Registration.waitlist_position).where(Registration.cohort_id == cohort_id)
        ).all()
        assert (
            session.scalar(
                select(func.count()).select_from(TrainingSession).where(TrainingSession.cohort_id == cohort_id)
            )
            == 1 + 20
        )
    assert len(registrations) == 2 * PEOPLE
    assert sum(status == "confirmed" for status, _ in registrations) == 30
    assert sorted(p for status, p in registrations if status == "waitlisted") == list(range(1, 2 * PEOPLE - 30 + 1))
    # The worker, a third writer, relayed every event meanwhile.
    wait_until(lambda: _pending(db) == 0, timeout=30, message="the outbox to drain")


def _pending(db) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count()).select_from(platform.outbox).where(platform.outbox.status == "pending")
        )
