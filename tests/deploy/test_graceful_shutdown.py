"""SIGTERM under load, as Kubernetes sends it on every rollout, scale-down and node drain.

Real processes as deployed: the content API under gunicorn (the image's command) against PostgreSQL,
and content's consumer (``python -m services.content.worker consumer``, the consumer Deployment's
command) against RabbitMQ. The API must answer every request it accepted; the consumer must finish
the message in hand and hand the others back, so that a second consumer handles each event once.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest
import yaml
from sqlalchemy import func, select

from services.content.config import ContentConfig
from services.content.models import Jurisdiction, Series
from shared.envelope import make_event
from shared.messaging.bus import Outgoing, Publisher
from shared.testing import AUDIENCE, ISSUER, pika_params, spare_port, wait_until
from tests.conftest import config_overrides, migrated_context

pytestmark = pytest.mark.e2e  # it starts the platform's processes as deployed

REPO = Path(__file__).resolve().parents[2]
PG_AND_RABBITMQ = [pytest.param("postgres", "rabbitmq", id="postgres-rabbitmq")]
# What the pod's terminationGracePeriodSeconds allows (deploy/k8s): a process still running then is killed.
GRACE_SECONDS = 30


@pytest.fixture
def content(database, broker, signing_key_file, tmp_path):
    """Content's database migrated to head, and the environment its processes read it from."""
    overrides = dict(
        storage_dir=str(tmp_path / "files"), **config_overrides(database, broker, signing_key_file, tmp_path)
    )
    ctx = migrated_context("content", ContentConfig, overrides)
    env = {
        **os.environ,
        "CONTENT_DATABASE_URL": ctx.config.database_url,
        "CONTENT_DB_SCHEMA": ctx.config.db_schema,
        "BROKER_URL": broker["url"],
        "BROKER_NAMESPACE": broker["namespace"],
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_JWKS_URL": "",
        "JWT_DEV_PRIVATE_KEY_FILE": signing_key_file,
        "DATA_DIR": str(tmp_path),
        "CONTENT_STORAGE_DIR": str(tmp_path / "files"),
        "RETRY_DELAYS": ",".join(str(d) for d in ctx.config.retry_delays),
        "LOG_LEVEL": "INFO",
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    yield ctx, env
    ctx.db.dispose()


def stopped_within(process: subprocess.Popen, seconds: float) -> int:
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the process was still running {seconds} s after SIGTERM (Kubernetes would kill it)")


# --------------------------------------------------------------------------- the API


def pre_stop_seconds(deployment: str) -> int:
    """The pause Kubernetes takes before SIGTERM (the API's preStop hook): the time it needs to take
    the pod out of its Service's endpoints, so that no new connection reaches a stopping gunicorn."""
    docs = yaml.safe_load_all((REPO / "deploy/k8s/base/content" / f"{deployment}-deployment.yaml").read_text())
    (container,) = next(d for d in docs if d)["spec"]["template"]["spec"]["containers"]
    return container["lifecycle"]["preStop"]["sleep"]["seconds"]


@pytest.mark.parametrize("database,broker", PG_AND_RABBITMQ, indirect=True)
def test_the_api_answers_every_request_it_accepted_when_told_to_stop(content, tokens, tmp_path):
    """As Kubernetes stops a pod: out of the endpoints (no new connections), the preStop pause, SIGTERM.

    Quick requests keep coming until the pod leaves the endpoints; slow ones (a body sent a piece at a
    time, as from a poor mobile connection) are still being read when SIGTERM comes, and must be
    answered and stored all the same.
    """
    ctx, env = content
    pause = pre_stop_seconds("content-api")
    port = spare_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        # The image's command (Dockerfile, docker-compose.yml, deploy/k8s), on a free local port.
        ["gunicorn", "-c", "python:shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
        + ["services.content.wsgi:app"],
        cwd=REPO,
        env={
            **env,
            "WEB_CONCURRENCY": "3",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    auth = tokens.headers("national_admin", "US")["Authorization"]

    def post(slug: str, pieces: int = 1, gap: float = 0.0) -> tuple[int, bytes]:
        body = json.dumps({"slug": slug, "title": f"Series {slug}"}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.putrequest("POST", "/series")
            for name, value in (("Authorization", auth), ("Content-Type", "application/json")):
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            size = -(-len(body) // pieces)
            for start in range(0, len(body), size):
                conn.send(body[start : start + size])
                time.sleep(gap)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def up() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return server.poll() is not None  # ends the wait; asserted below

    wait_until(up, timeout=60, message="gunicorn to serve")
    assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]

    in_endpoints = threading.Event()
    in_endpoints.set()
    sigterm_at: list[float] = []
    created: list[str] = []  # slugs the API answered 201 for
    failures: list[str] = []  # a request that reached the server and was not answered as it should
    spanning: list[str] = []  # requests under way when SIGTERM came
    lock = threading.Lock()

    def send(slug: str, **slowly) -> None:
        started = time.monotonic()
        try:
            status, body = post(slug, **slowly)
        except OSError as exc:  # refused, reset, closed without an answer, timed out
            with lock:
                failures.append(f"{slug}: {type(exc).__name__}: {exc}")
            return
        with lock:
            if sigterm_at and started < sigterm_at[0]:
                spanning.append(slug)
            if status == 201:
                created.append(slug)
            else:
                failures.append(f"{slug}: {status} {body[:200]!r}")

    def quick_client(n: int) -> None:
        i = 0
        while in_endpoints.is_set():  # the Service sends this pod new connections until it leaves the endpoints
            send(f"quick-{n}-{i}")
            i += 1

    quick = [threading.Thread(target=quick_client, args=(n,)) for n in range(4)]
    for thread in quick:
        thread.start()
    wait_until(lambda: len(created) >= 50, timeout=60, message="the load to get going")
    # Two uploads that take longer than the pause: still being read when SIGTERM comes.
    slow = [
        threading.Thread(target=send, args=(f"slow-{n}",), kwargs={"pieces": 10, "gap": (pause + 3) / 10})
        for n in range(2)
    ]
    for thread in slow:
        thread.start()
    time.sleep(0.5)
    in_endpoints.clear()  # Kubernetes marks the pod terminating: out of the endpoints, preStop runs
    for thread in quick:
        thread.join(timeout=30)
    time.sleep(pause)
    sigterm_at.append(time.monotonic())
    server.send_signal(signal.SIGTERM)
    code = stopped_within(server, GRACE_SECONDS - pause)
    for thread in slow:
        thread.join(timeout=30)
    log.close()

    assert code == 0, (tmp_path / "gunicorn.log").read_text()[-2000:]
    assert not failures, f"requests failed while the API stopped: {failures}"
    assert sorted(spanning) == ["slow-0", "slow-1"], f"under way at SIGTERM: {spanning}"
    assert {"slow-0", "slow-1"} <= set(created)
    with ctx.db.session() as session:
        stored = set(
            session.scalars(select(Series.slug).where(Series.slug.like("quick-%") | Series.slug.like("slow-%")))
        )
    assert stored == set(created), "every 201 is in the database, and nothing answered otherwise is"


# --------------------------------------------------------------------------- the consumer


def start_consumer(env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "services.content.worker", "consumer"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )


def log_events(path: Path, event: str) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            lines.append(record)
    return lines


@pytest.mark.parametrize("database,broker", PG_AND_RABBITMQ, indirect=True)
def test_a_consumer_told_to_stop_finishes_or_hands_back_every_message(content, broker, tmp_path):
    ctx, env = content
    bus = ctx.extra["bus"]
    (subscription,) = bus.topology.for_consumer("content")
    work_queue, dead_queue = bus.topology.work_queue(subscription), bus.topology.dead_queue(subscription)
    tribes = [f"SHUTDOWN-{n:04d}" for n in range(1000)]  # enough that a loaded machine still stops it mid-way
    with bus.connection(publishing=True) as conn:
        bus.declare(conn.default_channel)
        publisher = Publisher(bus, conn)
        for code in tribes:
            event = make_event(
                "scheduling.jurisdiction.added",
                source="scheduling",
                subject=code,
                tenant=code,
                data={"code": code, "name": f"Tribe {code}", "kind": "tribe", "default_time_zone": "America/Denver"},
            )
            publisher.publish(Outgoing(str(uuid.uuid4()), bus.topology.exchange, event.type, event.to_json()))

    def inbox() -> int:
        with ctx.db.session() as session:
            return session.scalar(select(func.count()).select_from(ctx.tables.inbox))

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_consumer(env, first_log)
    wait_until(lambda: inbox() >= 60 or first.poll() is not None, timeout=120, message="the consumer to get going")
    assert first.poll() is None, first_log.read_text()[-2000:]
    first.send_signal(signal.SIGTERM)
    assert stopped_within(first, GRACE_SECONDS) == 0, first_log.read_text()[-2000:]
    handled_by_first = inbox()
    assert handled_by_first < len(tribes), "the first consumer had drained the queue: stop it sooner"
    assert log_events(first_log, "worker stopping"), "the worker did not see SIGTERM"

    second = start_consumer(env, second_log)
    try:
        wait_until(lambda: inbox() == len(tribes), timeout=120, message="a second consumer to handle the rest")
    finally:
        second.send_signal(signal.SIGTERM)
        stopped_within(second, GRACE_SECONDS)

    with ctx.db.session() as session:
        recorded = list(session.scalars(select(Jurisdiction.code).where(Jurisdiction.code.like("SHUTDOWN-%"))))
    assert sorted(recorded) == tribes, "an event was lost"
    handled = [line["event_id"] for path in (first_log, second_log) for line in log_events(path, "event handled")]
    assert len(handled) == len(set(handled)) == len(tribes), "an event was handled twice, or not logged"
    # A message committed but not acked before the stop would come back and be skipped as a duplicate.
    assert not log_events(second_log, "duplicate event skipped"), "the first consumer stopped between commit and ack"
    connection = pika.BlockingConnection(pika_params(broker["url"]))
    try:
        channel = connection.channel()
        for queue in (work_queue, dead_queue):
            depth = channel.queue_declare(queue, passive=True).method.message_count
            assert depth == 0, f"{queue} still holds {depth} messages"
    finally:
        connection.close()
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ctx.tables.dead_letter)) == 0


def signal_another_thread(pid: int, signum: int) -> None:
    """Deliver ``signum`` to one of the process's threads other than its main one, as the kernel may.

    A signal sent to a process goes to whichever of its threads can take it; this picks the case a
    Python program gets wrong when its main thread blocks without a timeout.
    """
    threads = sorted(int(tid) for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid)
    assert threads, "the process has no thread besides its main one"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, threads[0], signum) != 0:
        raise OSError(ctypes.get_errno(), "tgkill failed")


@pytest.mark.parametrize("database,broker", PG_AND_RABBITMQ, indirect=True)
def test_a_worker_stops_when_sigterm_reaches_another_of_its_threads(content, broker, tmp_path):
    _, env = content
    log_path = tmp_path / "worker.log"
    worker = start_consumer(env, log_path)
    try:
        wait_until(lambda: log_events(log_path, "worker started") or worker.poll() is not None, timeout=60)
        assert worker.poll() is None, log_path.read_text()[-2000:]
        wait_until(lambda: len(os.listdir(f"/proc/{worker.pid}/task")) > 1, timeout=30, message="its threads")
        signal_another_thread(worker.pid, signal.SIGTERM)
        assert stopped_within(worker, GRACE_SECONDS) == 0, log_path.read_text()[-2000:]
        assert log_events(log_path, "worker stopping") and log_events(log_path, "worker stopped")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
