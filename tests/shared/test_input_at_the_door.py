"""What every service refuses at the door, before any view runs: bodies no parser should walk, text no
database can store, and requests gunicorn itself turns away, all as problem details."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.content.models import Series
from services.scheduling.models import Cohort
from shared.testing import spare_port
from tests.helpers import assert_problem, auth

REPO = Path(__file__).resolve().parents[2]
NATIONAL = ("national_admin", "US", "admin-us")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
SERIES = {"slug": "state-orientation", "title": "State orientation"}
COHORT = {
    "series_id": "00000000-0000-4000-8000-000000000001",
    "title": "Spring cohort",
    "format": "virtual",
    "capacity": 20,
}


@pytest.fixture
def services(client, content_ctx, scheduling_ctx, tokens):
    """Each service's client, a create it offers, its writer's headers, and a count of what it stored."""
    from services.scheduling.app import create_app

    sclient = create_app(scheduling_ctx).test_client()

    def counter(ctx, model):
        def count():
            with ctx.db.session() as db:
                return db.scalar(select(func.count()).select_from(model))

        return count

    return [
        (client, "/series", SERIES, auth(tokens, NATIONAL), counter(content_ctx, Series)),
        (sclient, "/cohorts", COHORT, auth(tokens, CA_ADMIN), counter(scheduling_ctx, Cohort)),
    ]


def test_a_deeply_nested_body_is_a_400_problem_in_every_service(services):
    for client, path, body, headers, count in services:
        before = count()
        for depth in (10_000, 33):
            deep = "[" * depth + "]" * depth
            for raw in (deep, f'{{"title": {deep}}}'):
                response = client.post(path, data=raw, headers={**headers, "Content-Type": "application/json"})
                problem = assert_problem(response, 400, "body")
                assert problem["type"].endswith("/problems/malformed-json"), problem
        # A body as deep as a schema reads is still read (and refused for its content, not its shape).
        assert_problem(client.post(path, json={**body, "title": [[["x"]]]}, headers=headers), 422, "title")
        assert count() == before


def _with_title(body: dict, title_json: str) -> str:
    """``body`` as JSON text whose title is ``title_json``, written as is (escapes and all)."""
    return json.dumps({**body, "title": "TITLE"}).replace('"TITLE"', title_json)


def test_a_lone_surrogate_is_a_422_naming_its_field_in_every_service(services):
    for client, path, body, headers, count in services:
        headers = {**headers, "Content-Type": "application/json"}
        before = count()
        for title in ('"Spring \\ud800"', '"\\udfff"', '["ok", {"x": "\\ud83d"}]', '{"\\ud800": 1}'):
            problem = assert_problem(client.post(path, data=_with_title(body, title), headers=headers), 422, "title")
            assert "surrogate" in str(problem["errors"]["title"]), problem
        problem = assert_problem(client.post(path, data='{"\\ud800x": 1}', headers=headers), 422)
        assert "surrogate" in str(problem["errors"]), problem
        assert count() == before
        # A whole character written as a surrogate pair is no lone surrogate.
        emoji = client.post(path, data=_with_title(body, '"Spring \\ud83c\\udf31"'), headers=headers)
        assert emoji.status_code == 201, emoji.get_data(as_text=True)
        assert emoji.json["title"] == "Spring \U0001f331"


# --- errors gunicorn answers itself -------------------------------------------------------------


def _exchange(port: int, request: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture(
    params=[
        ("shared.gunicorn_conf", "services.content.wsgi:app"),
        ("services.scheduling.gunicorn_conf", "services.scheduling.wsgi:app"),
    ],
    ids=["content", "scheduling"],
)
def served(request, tmp_path):
    """A service under its own gunicorn settings, as deployed: its port."""
    conf, app = request.param
    port = spare_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            f"python:{conf}",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            app,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200:
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(timeout=10)


def test_errors_of_the_server_in_front_of_flask_are_problems(served):
    cases = {
        414: b"GET /series?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        431: b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 9000 + b"\r\n\r\n",
        400: b"POST /series HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\n{}",
    }
    for status, request in cases.items():
        got, headers, body = _exchange(served, request)
        assert got == status, body
        assert headers["content-type"] == "application/problem+json", (status, headers, body)
        problem = json.loads(body)
        assert problem["status"] == status and problem["title"] and problem["type"] == "about:blank"
        assert int(headers["content-length"]) == len(body)
    # Two Content-Length headers that disagree are refused the same way.
    got, headers, _ = _exchange(
        served, b"POST /series HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    assert got == 400 and headers["content-type"] == "application/problem+json"
