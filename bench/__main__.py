"""``make bench``: the content service's figures as ratios to this machine's own ceilings, in one run.

- GET of one module and of a page of 50 materials (authenticated, full service) against a bare Flask
  app doing one primary-key SELECT, both under the same gunicorn settings and database;
- the outbox relay's events/s (the real worker process) against raw kombu publishing with confirms
  to the same RabbitMQ;
- the resident memory of every process;
- the training-hours export at a national year's size (bench/export.py; BENCH_EXPORT_SCALE, default
  0.1 of a year; BENCH_SKIP_EXPORT=1 leaves it out).

PostgreSQL and RabbitMQ are taken from DATABASE_TEST_URL / BROKER_TEST_URL (defaults: 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench import export, scheduling
from bench.load import measure_interleaved, process_tree, rss_mb
from shared.testing import AUDIENCE, ISSUER, POSTGRES_URL, RABBITMQ_URL, Tokens, drop_pg_schema, pika_params

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "9"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TARGETS = {"module": 0.80, "materials": 0.50, "relay": 0.40, "rss_mb": 150}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def gunicorn(app: str, port: int, env: dict, settings: str = "shared.gunicorn_conf") -> subprocess.Popen:
    """``app`` served as deployed: gunicorn with ``settings`` (a service's API and its bare ceiling share them)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", f"python:{settings}", "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare_database(env: dict, materials: int = 200) -> tuple[str, dict]:
    """Migrate, seed, and add published materials; return a module id and the content context."""
    os.environ.update(env)
    from services.content.bootstrap import build_context, migrate
    from services.content.config import ContentConfig
    from services.content.models import Material, MaterialVersion, Module
    from services.content.seed import load_seed
    from sqlalchemy import select

    config = ContentConfig.from_env()
    migrate(config)
    ctx = build_context(config)
    with ctx.db.unit_of_work() as uow:
        load_seed(uow.session)
        module = uow.session.scalars(select(Module).where(Module.position == 3)).one()
        for n in range(materials):
            material = Material(module_id=module.id, tenant=None, kind="resource", title=f"Handout {n}",
                                status="published", latest_version=1, published_version=1, created_by="bench")
            material.versions = [MaterialVersion(number=1, filename=f"h{n}.pdf", media_type="application/pdf",
                                                 size=1000, sha256=uuid.uuid4().hex * 2, created_by="bench")]
            uow.session.add(material)
        uow.commit()
        return module.id, ctx


def http_figures(env: dict, module_id: str, token: str, results: dict) -> None:
    content_port, bare_port = free_port(), free_port()
    bare_env = {**env, "BENCH_DATABASE_URL": env["CONTENT_DATABASE_URL"], "BENCH_DB_SCHEMA": env["CONTENT_DB_SCHEMA"]}
    servers = [gunicorn("services.content.wsgi:app", content_port, env), gunicorn("bench.bare_app:app", bare_port, bare_env)]
    try:
        wait_http(content_port)
        wait_http(bare_port, f"/rows/{module_id}")
        auth = {"Authorization": f"Bearer {token}"}
        plans = {
            "ceiling": (bare_port, f"/rows/{module_id}", {}),
            "module": (content_port, f"/modules/{module_id}", auth),
            "materials": (content_port, "/materials?limit=50", auth),
        }
        results.update(measure_interleaved(plans, clients=CLIENTS, seconds=SECONDS, rounds=ROUNDS))
        results["module"]["ratio"] = results["module"]["rps"] / results["ceiling"]["rps"]
        results["materials"]["ratio"] = results["materials"]["rps"] / results["ceiling"]["rps"]
        results["rss"] = {f"content-api pid {p}": rss_mb(p) for p in process_tree(servers[0].pid)}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def relay_figures(env: dict, ctx, results: dict) -> None:
    """The real worker process relaying EVENTS outbox rows, against raw kombu publishing."""
    import pika
    from kombu import Connection, Exchange, Producer
    from sqlalchemy import func, select

    from services.content.models import platform
    from shared.envelope import make_event
    from shared.messaging.outbox import add_event

    namespace = env["BROKER_NAMESPACE"]
    connection = pika.BlockingConnection(pika_params(RABBITMQ_URL))
    channel = connection.channel()
    exchange = f"{namespace}events"
    queue = f"{namespace}bench.sink"
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, routing_key="content.#")

    data = {"material_id": "m", "module_id": "mod", "series_id": "s", "module_position": 3, "kind": "resource",
            "title": "Handout", "version": 1, "national": True, "published_by": "bench"}
    bodies = [make_event("content.material.published", source="/bench", subject="m", tenant="CA", data=data)
              for _ in range(EVENTS)]

    # Raw kombu: one confirmed, mandatory publish at a time, as a plain client would do it.
    with Connection(RABBITMQ_URL, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.default_channel)
        started = time.perf_counter()
        for event in bodies:
            producer.publish(event.to_json(), exchange=Exchange(exchange, type="topic", durable=True),
                             routing_key=event.type, content_type="application/cloudevents+json",
                             delivery_mode=2, mandatory=True)
        raw_seconds = time.perf_counter() - started
    channel.queue_purge(queue)

    worker = subprocess.Popen([sys.executable, "-m", "services.content.worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)  # connected and idle
        Outbox = platform.outbox
        with ctx.db.unit_of_work() as uow:
            for event in bodies:
                add_event(uow.session, platform, make_event(event.type, source="/bench", subject="m", tenant="CA",
                                                            data=data))
            uow.commit()
        started = time.perf_counter()
        while True:
            with ctx.db.session() as session:
                pending = session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
            if pending == 0:
                break
            if time.perf_counter() - started > 300:
                raise RuntimeError("the relay did not drain the outbox in 5 minutes")
            time.sleep(0.01)
        relay_seconds = time.perf_counter() - started
        results["rss"][f"content-worker pid {worker.pid}"] = rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    delivered = channel.queue_declare(queue, passive=True).method.message_count
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    connection.close()
    results["raw_kombu"] = {"events_per_s": EVENTS / raw_seconds}
    results["relay"] = {"events_per_s": EVENTS / relay_seconds, "delivered": delivered,
                        "ratio": (EVENTS / relay_seconds) / (EVENTS / raw_seconds)}


def main() -> int:
    results: dict = {"machine": {"cpus": os.cpu_count()}, "settings": {"clients": CLIENTS, "seconds": SECONDS,
                                                                         "events": EVENTS, "workers": 2}}
    tmp = Path(tempfile.mkdtemp(prefix="t4t-bench-"))
    tokens = Tokens()
    key_file = tmp / "key.pem"
    key_file.write_bytes(tokens.private_pem)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CONTENT_DATABASE_URL": POSTGRES_URL, "CONTENT_DB_SCHEMA": schema,
        "SCHEDULING_DATABASE_URL": POSTGRES_URL, "SCHEDULING_DB_SCHEMA": f"{schema}_s",
        "BROKER_URL": RABBITMQ_URL, "BROKER_NAMESPACE": f"{schema}.",
        "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE, "JWT_DEV_PRIVATE_KEY_FILE": str(key_file),
        "DATA_DIR": str(tmp), "WEB_CONCURRENCY": "2", "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    try:
        module_id, ctx = prepare_database(env)
        http_figures(env, module_id, tokens.token("facilitator", "CA"), results)
        relay_figures(env, ctx, results)
        ctx.db.dispose()
        if not os.environ.get("BENCH_SKIP_SCHEDULING"):
            scheduling.scheduling_figures(env, tokens, results, gunicorn=gunicorn, free_port=free_port,
                                          wait_http=wait_http, clients=CLIENTS, seconds=SECONDS, rounds=ROUNDS)
        if not os.environ.get("BENCH_SKIP_EXPORT"):
            results["export"] = export.export_figures(
                {**env, "SCHEDULING_DB_SCHEMA": f"{schema}_e", "LOG_LEVEL": "WARNING"}, tokens,
                scale=float(os.environ.get("BENCH_EXPORT_SCALE", "0.1")))
    finally:
        drop_pg_schema(schema)
        drop_pg_schema(f"{schema}_s")
        drop_pg_schema(f"{schema}_e")
    report(results)
    if "export" in results:
        export.report(results["export"])
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench.json").write_text(json.dumps(results, indent=2))
    return 0


def report(r: dict) -> None:
    def verdict(ok: bool) -> str:
        return "meets target" if ok else "BELOW TARGET"

    c = r["ceiling"]["rps"]
    print(f"\nmake bench — {r['settings']['clients']} client processes, {r['settings']['seconds']}s per figure "
          f"in {ROUNDS} interleaved rounds (median), "
          f"gunicorn {r['settings']['workers']} workers (content: sync; scheduling: 25 threads each, as deployed), "
          f"PostgreSQL + RabbitMQ, {r['machine']['cpus']} CPUs")
    print(f"  ceiling  bare Flask + 1 PK SELECT        {c:8.0f} req/s")
    for name, label in (("module", "GET /modules/<id> (auth)"), ("materials", "GET /materials?limit=50 (auth)")):
        f = r[name]
        print(f"  content  {label:<32} {f['rps']:8.0f} req/s = {f['ratio']:6.1%} of ceiling "
              f"(target {TARGETS[name]:.0%}: {verdict(f['ratio'] >= TARGETS[name])}; errors {f['errors']})")
    print(f"  ceiling  raw kombu publish, confirms      {r['raw_kombu']['events_per_s']:8.0f} events/s")
    f = r["relay"]
    print(f"  outbox   relay (worker process)           {f['events_per_s']:8.0f} events/s = {f['ratio']:6.1%} of raw "
          f"(target {TARGETS['relay']:.0%}: {verdict(f['ratio'] >= TARGETS['relay'])}; delivered {f['delivered']})")
    if "scheduling" in r:
        scheduling.report(r, verdict)
    worst = max(r["rss"].values())
    print(f"  memory   largest process RSS              {worst:8.1f} MB "
          f"(target < {TARGETS['rss_mb']} MB: {verdict(worst < TARGETS['rss_mb'])})")
    for name, mb in sorted(r["rss"].items()):
        print(f"           {name:<40} {mb:6.1f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
