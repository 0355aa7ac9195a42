"""`make run`'s processes on the embedded default, driven only through their public interfaces."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shared.testing import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return None, None


@pytest.fixture
def platform(tmp_path):
    port, scheduling_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JWT_", "DATABASE_URL", "BROKER_", "CONTENT_", "SCHEDULING_"))}
    env.update(DATA_DIR=str(tmp_path), CONTENT_PORT=str(port), SCHEDULING_PORT=str(scheduling_port),
               WEB_CONCURRENCY="1", PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    for service in ("content", "scheduling"):
        for command in ("migrate", "seed"):
            subprocess.run([sys.executable, "-m", f"services.{service}.manage", command], cwd=ROOT, env=env,
                           check=True, capture_output=True, timeout=120)
    process = subprocess.Popen([sys.executable, "-m", "shared.launcher"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for each in (port, scheduling_port):
            wait_until(lambda: get(f"http://127.0.0.1:{each}/healthz")[0] == 200, timeout=60, interval=0.2,
                       message="the APIs to answer")
        yield {"port": port, "scheduling_port": scheduling_port, "env": env}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert "content-worker" in output and "scheduling-worker" in output, output[-2000:]
    assert "outbox relay connected" in output, output[-2000:]


def test_make_run_serves_the_curriculum_to_a_development_token(platform):
    base = f"http://127.0.0.1:{platform['port']}"
    token = subprocess.run([sys.executable, "-m", "shared.devtoken", "--role", "facilitator", "--tenant", "CA"],
                           cwd=ROOT, env=platform["env"], check=True, capture_output=True, text=True).stdout.strip()
    status, series = get(f"{base}/series", token)
    assert status == 200
    status, modules = get(f"{base}/series/{series['items'][0]['id']}/modules", token)
    assert [m["position"] for m in modules["items"]] == list(range(1, 10))
    status, practices = get(f"{base}/practices", token)
    assert len(practices["items"]) == 6
    assert get(f"{base}/series")[0] == 401
    assert get(f"{base}/readyz") == (200, {"checks": {"broker": "ok", "database": "ok"}, "status": "ready"})
