"""`make run`'s processes on the embedded default, driven only through their public interfaces."""

from __future__ import annotations

import json
import os
import re
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


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("platform")
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


def walkthrough_script(platform) -> str:
    """The README's walkthrough, as written, pointed at this test's ports."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    script = "\n".join(blocks)
    script = script.replace("127.0.0.1:8001", f"127.0.0.1:{platform['port']}")
    script = script.replace("127.0.0.1:8002", f"127.0.0.1:{platform['scheduling_port']}")
    # The same tokens `make token` prints, without needing the repository's own virtualenv.
    return re.sub(r"make -s token ROLE=(\S+) TENANT=(\S+)",
                  lambda m: f"{sys.executable} -m shared.devtoken --role {m[1]} --tenant {m[2]}", script)


def test_the_readme_walkthrough_runs_as_written(platform, tmp_path):
    (tmp_path / "var").mkdir()
    env = {**platform["env"], "PYTHONPATH": str(ROOT)}
    result = subprocess.run(["bash", "-e", "-c", walkthrough_script(platform)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "var" / "certificate.pdf").read_bytes().startswith(b"%PDF")
    assert "verified" in result.stdout  # the state registry's CSV export


def test_a_published_material_reaches_the_sessions_of_its_module(platform):
    """content publishes through its outbox and the filesystem broker; scheduling's worker consumes it."""
    import time

    content, scheduling = f"http://127.0.0.1:{platform['port']}", f"http://127.0.0.1:{platform['scheduling_port']}"
    env = platform["env"]

    def token(role, tenant):
        return subprocess.run([sys.executable, "-m", "shared.devtoken", "--role", role, "--tenant", tenant],
                              cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()

    national, admin = token("national_admin", "US"), token("jurisdiction_admin", "CA")
    status, series = get(f"{content}/series", national)
    status, modules = get(f"{content}/series/{series['items'][0]['id']}/modules", national)
    module_id = modules["items"][5]["id"]
    status, material = send("POST", f"{content}/materials", national,
                            {"module_id": module_id, "kind": "video_link", "title": "Individualized care in action"})
    assert status == 201, material
    status, version = send("POST", f"{content}/materials/{material['id']}/versions", national,
                           {"url": "https://video.example.org/individualized-care"})
    assert status == 201, version
    assert send("POST", f"{content}/materials/{material['id']}/publish", national, {})[0] == 200

    status, cohort = send("POST", f"{scheduling}/cohorts", admin, {
        "series_id": series["items"][0]["id"], "title": "Event path cohort", "format": "virtual",
        "time_zone": "America/Los_Angeles", "capacity": 10, "facilitators": ["fac-e2e"]})
    assert status == 201, cohort
    status, session = send("POST", f"{scheduling}/cohorts/{cohort['id']}/sessions", admin, {
        "module_id": module_id, "module_position": 6, "title": "Individualized care",
        "starts_at": "2030-01-08T17:00:00Z", "ends_at": "2030-01-08T19:00:00Z",
        "meeting_url": "https://meet.example.org/e2e"})
    assert status == 201, session
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = get(f"{scheduling}/sessions/{session['id']}", admin)[1]
        if shown["materials"]:
            break
        time.sleep(0.2)
    assert [(m["title"], m["version"]) for m in shown["materials"]] == [("Individualized care in action", 1)]


def send(method: str, url: str, token: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
