"""The platform as processes for the portal's browser tests: the APIs and workers of content, scheduling and coaching,
the portal.

Each runs as in production (gunicorn, the workers), on free ports, against a database and broker
folder of the test's own (SQLite and the filesystem transport, the embedded default). Chromium is
Debian's, driven by Playwright (the `browser` fixture of tests/conftest.py); axe-core checks each page the flows visit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from shared.auth import load_or_create_dev_key, mint_token
from shared.testing import spare_port, wait_until
from tests.helpers import migrate_and_seed

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ISSUER, AUDIENCE = "http://localhost/dev-issuer", "t4t-platform"


class Platform:
    """The running processes, their addresses, and tokens for the people of the stories."""

    def __init__(self, data_dir: Path, env: dict, ports: dict):
        self.data_dir, self.env, self.ports = data_dir, env, ports
        self.processes: list[subprocess.Popen] = []
        self.content = f"http://127.0.0.1:{ports['content']}"
        self.scheduling = f"http://127.0.0.1:{ports['scheduling']}"
        self.coaching = f"http://127.0.0.1:{ports['coaching']}"
        self.portal = f"http://127.0.0.1:{ports['portal']}"

    def start(self, name: str, command: list[str]) -> None:
        log = (self.data_dir / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def token(self, role: str, tenant: str = "CA", sub: str | None = None, name: str = "") -> str:
        key = load_or_create_dev_key(self.data_dir / "dev-signing-key.pem")
        return mint_token(
            key,
            issuer=ISSUER,
            audience=AUDIENCE,
            sub=sub or f"dev-{role}-{tenant.lower()}",
            tenant=tenant,
            roles=[role],
            name=name,
        )

    def api(self, method: str, url: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, url, headers=headers, timeout=30, **kwargs)
        assert response.status_code < 400, (method, url, response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def platform(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("platform")
    ports = {name: spare_port() for name in ("content", "scheduling", "coaching", "portal")}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JWT_", "DATABASE_URL", "BROKER_", "CONTENT_", "SCHEDULING_", "COACHING_", "PORTAL_"))
    }
    env.update(
        DATA_DIR=str(data_dir),
        CONTENT_PORT=str(ports["content"]),
        SCHEDULING_PORT=str(ports["scheduling"]),
        COACHING_PORT=str(ports["coaching"]),
        PORTAL_PORT=str(ports["portal"]),
        PORTAL_COACHING_URL=f"http://127.0.0.1:{ports['coaching']}",
        WEB_CONCURRENCY="1",
        LOG_LEVEL="WARNING",
        OUTBOX_POLL_INTERVAL="0.1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    migrate_and_seed(env, ("content", "scheduling", "coaching"))
    running = Platform(data_dir, env, ports)
    gunicorn = [sys.executable, "-m", "gunicorn"]
    try:
        running.start(
            "content-api",
            [*gunicorn, "-c", "python:shared.gunicorn_conf", "--bind", f"127.0.0.1:{ports['content']}"]
            + ["services.content.wsgi:app"],
        )
        running.start(
            "scheduling-api",
            [*gunicorn, "-c", "python:services.scheduling.gunicorn_conf", "--bind", f"127.0.0.1:{ports['scheduling']}"]
            + ["services.scheduling.wsgi:app"],
        )
        running.start(
            "coaching-api",
            [*gunicorn, "-c", "python:services.coaching.gunicorn_conf", "--bind", f"127.0.0.1:{ports['coaching']}"]
            + ["services.coaching.wsgi:app"],
        )
        running.start("content-worker", [sys.executable, "-m", "services.content.worker"])
        running.start("coaching-worker", [sys.executable, "-m", "services.coaching.worker"])
        running.start("scheduling-worker", [sys.executable, "-m", "services.scheduling.worker"])
        running.start(
            "portal",
            [*gunicorn, "-c", "python:services.portal.gunicorn_conf", "--bind", f"127.0.0.1:{ports['portal']}"]
            + ["services.portal.wsgi:app"],
        )
        for base in (running.content, running.scheduling, running.coaching, running.portal):
            wait_until(lambda: _answers(f"{base}/healthz"), timeout=60, interval=0.2, message=f"{base} to answer")
        _coaching_follows_the_training_for_trainers(running)
        yield running
    finally:
        running.stop()


def _coaching_follows_the_training_for_trainers(running: Platform) -> None:
    """The seeded series is the training for trainers, and California's trainers go to its specialist, Sam."""
    national = running.token("national_admin", "US")
    for series in running.api("GET", f"{running.content}/series", national)["items"]:
        running.api("PUT", f"{running.coaching}/trainer-series/{series['id']}", national)
    running.api(
        "PATCH",
        f"{running.coaching}/settings",
        running.token("jurisdiction_admin"),
        json={"default_specialist": "dev-specialist-ca"},
    )


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def readme_images() -> Path:
    path = ROOT / "docs" / "images"
    path.mkdir(exist_ok=True)
    return path


def copy_for_readme(shot: Path, readme_images: Path, name: str) -> None:
    shutil.copyfile(shot, readme_images / name)


@contextmanager
def serving_over_http(app):
    """A WSGI app (the portal, an API) served over real HTTP on a free port: yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def signed_in_page(browser, base_url: str, viewport: dict, name: str):
    """A new browser context at ``viewport`` signed in as the demo person ``name``: (context, page)."""
    context = browser.new_context(viewport=viewport, base_url=base_url)
    page = context.new_page()
    page.goto("/sign-in")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Sign in as {name}").click()
    return context, page


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page shown."""
    from tests.portal.test_browser_flows import axe

    return [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
