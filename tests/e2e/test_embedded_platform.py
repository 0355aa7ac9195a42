"""`make run`'s processes on the embedded default, driven only through their public interfaces."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from pypdf import PdfReader

from shared.testing import spare_port, wait_until
from tests.helpers import migrate_and_seed
from tests.notifications.delivery_reports import postfix_report

ROOT = Path(__file__).resolve().parents[2]


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
    port, scheduling_port, portal_port, notifications_port, coaching_port = (spare_port() for _ in range(5))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("JWT_", "DATABASE_URL", "BROKER_", "CONTENT_", "SCHEDULING_", "NOTIFICATIONS_", "SMTP_", "COACHING_")
        )
    }
    env.update(
        DATA_DIR=str(tmp_path),
        CONTENT_PORT=str(port),
        SCHEDULING_PORT=str(scheduling_port),
        PORTAL_PORT=str(portal_port),
        NOTIFICATIONS_PORT=str(notifications_port),
        SMTP_SINK_PORT=str(spare_port()),
        COACHING_PORT=str(coaching_port),
        WEB_CONCURRENCY="1",
        WEBHOOK_ALLOW_PRIVATE="true",  # as docs/notifications.md starts it, to try webhooks on this machine
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    migrate_and_seed(env)  # every service, as `make seed`
    # What it prints goes to a file: a pipe nobody reads until the end fills up (64 KB of access logs,
    # e.g. while a test polls a page) and then blocks the launcher, and every process logging through it.
    printed = tmp_path / "make-run.out"
    with printed.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared.launcher"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = {
        "port": port,
        "scheduling_port": scheduling_port,
        "portal_port": portal_port,
        "notifications_port": notifications_port,
        "coaching_port": coaching_port,
        "env": env,
        "data_dir": tmp_path,
        "process": process,
        "printed": printed,
    }
    try:
        for each in (port, scheduling_port, portal_port, notifications_port, coaching_port):
            wait_until(
                lambda: get(f"http://127.0.0.1:{each}/healthz")[0] == 200,
                timeout=60,
                interval=0.2,
                message="the APIs to answer",
            )
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def stop_with_ctrl_c(platform) -> tuple[int, str]:
    """Ctrl-C as a terminal sends it (to the launcher's process group); its exit status and all it printed."""
    process = platform["process"]
    if "output" not in platform:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        platform["output"] = platform["printed"].read_text()
    return process.returncode, platform["output"]


def render_a_certificate(platform) -> None:
    """A certificate rendered by the running API (the PDF's font subsetting is what used to log)."""
    from services.scheduling.use_cases import certificates

    assert certificates.THE_TRAINING  # the API process renders; this process only asks for it
    base, admin = f"http://127.0.0.1:{platform['scheduling_port']}", token(platform, "jurisdiction_admin", "CA")
    status, cohort = send(
        "POST",
        f"{base}/cohorts",
        admin,
        {
            "series_id": "00000000-0000-4000-8000-000000000001",
            "title": "Log check cohort",
            "format": "virtual",
            "time_zone": "America/Los_Angeles",
            "capacity": 5,
            "facilitators": ["fac-log"],
            "completion_minimum": 1,
        },
    )
    assert status == 201, cohort
    status, session = send(
        "POST",
        f"{base}/cohorts/{cohort['id']}/sessions",
        admin,
        {
            "module_id": "module-1",
            "title": "Session 1",
            "starts_at": "2024-01-08T17:00:00Z",
            "ends_at": "2024-01-08T19:00:00Z",
            "meeting_url": "https://meet.example.org/log",
        },
    )
    assert status == 201, session
    status, registration = send(
        "POST",
        f"{base}/cohorts/{cohort['id']}/registrations",
        admin,
        {"participant": "log-check", "name": "Log Check", "email": "log@example.org"},
    )
    assert status == 201, registration
    status, sheet = send(
        "PUT",
        f"{base}/sessions/{session['id']}/attendance",
        admin,
        {"records": [{"registration_id": registration["id"], "status": "present"}]},
    )
    assert status == 200, sheet
    request = urllib.request.Request(
        f"{base}/registrations/{registration['id']}/certificate.pdf", headers={"Authorization": f"Bearer {admin}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read().startswith(b"%PDF")


def token(platform, role: str, tenant: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "shared.devtoken", "--role", role, "--tenant", tenant],
        cwd=ROOT,
        env=platform["env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_make_run_serves_the_curriculum_to_a_development_token(platform):
    base = f"http://127.0.0.1:{platform['port']}"
    token = subprocess.run(
        [sys.executable, "-m", "shared.devtoken", "--role", "facilitator", "--tenant", "CA"],
        cwd=ROOT,
        env=platform["env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    status, series = get(f"{base}/series", token)
    assert status == 200
    status, modules = get(f"{base}/series/{series['items'][0]['id']}/modules", token)
    assert [m["position"] for m in modules["items"]] == list(range(1, 10))
    status, practices = get(f"{base}/practices", token)
    assert len(practices["items"]) == 6
    assert get(f"{base}/series")[0] == 401
    assert get(f"{base}/readyz") == (
        200,
        {"checks": {"broker": "ok", "database": "ok", "identity_provider": "ok"}, "status": "ready"},
    )


def walkthrough_script(platform) -> str:
    """The README's walkthrough and the coach's day that follows it, as written, pointed at this test's ports."""
    readme = (ROOT / "README.md").read_text()
    blocks = []
    for heading in ("## Walkthrough", "## A coach's day", "## A learning community"):
        section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
        blocks += re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return as_run_here(platform, "\n".join(blocks))


def as_run_here(platform, script: str) -> str:
    """Shell commands of the docs, pointed at this test's ports and tokens."""
    script = script.replace("127.0.0.1:8001", f"127.0.0.1:{platform['port']}")
    script = script.replace("127.0.0.1:8002", f"127.0.0.1:{platform['scheduling_port']}")
    script = script.replace("127.0.0.1:8003", f"127.0.0.1:{platform['coaching_port']}")
    script = script.replace("127.0.0.1:8004", f"127.0.0.1:{platform['notifications_port']}")
    script = script.replace(".venv/bin/python", sys.executable)
    # The same tokens `make token` prints, without needing the repository's own virtualenv.
    return re.sub(
        r'make -s token ROLE=(\S+) TENANT=([^\s)]+)(?: SUB=([^\s)]+))?(?: NAME="([^"]*)")?',
        lambda m: (
            f"{sys.executable} -m shared.devtoken --role {m[1]} --tenant {m[2]}"
            + (f" --sub {m[3]}" if m[3] else "")
            + (f' --name "{m[4]}"' if m[4] else "")
        ),
        script,
    )


@contextmanager
def the_webhook_receiver_of_the_docs(platform, tmp_path):
    """docs/notifications.md's "Try it on this machine": its receiver subscribed and running; yields what it printed."""
    text = (ROOT / "docs" / "notifications.md").read_text()
    section = text.split("### Try it on this machine", 1)[1].split("\n## ", 1)[0]
    start, subscribe, test_message, deliveries = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert start.strip() == "WEBHOOK_ALLOW_PRIVATE=true make run"  # as the platform fixture runs
    port = spare_port()
    script = as_run_here(platform, subscribe).replace("127.0.0.1:9000", f"127.0.0.1:{port}")
    printed = tmp_path / "receiver.out"
    env = {**platform["env"], "PYTHONPATH": str(ROOT), "RECEIVER_PORT": str(port)}
    with printed.open("w") as out:
        receiver = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield printed, as_run_here(platform, test_message), as_run_here(platform, deliveries)
    finally:
        os.killpg(receiver.pid, signal.SIGTERM)
        receiver.wait(timeout=30)


def mailbox_page(platform) -> str:
    """The local mail sink's list of messages under ``make run`` (empty while it does not answer)."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{platform['notifications_port']}/dev/mailbox", timeout=5
        ) as page:
            return page.read().decode()
    except OSError:
        return ""


def test_the_readme_walkthrough_runs_as_written(platform, tmp_path):
    (tmp_path / "var").mkdir()
    env = {**platform["env"], "PYTHONPATH": str(ROOT)}
    with the_webhook_receiver_of_the_docs(platform, tmp_path) as (printed, test_message, deliveries):
        # As the docs say, a test message first: the receiver prints it once it is subscribed and listening.
        wait_until(lambda: "Running on" in printed.read_text(), timeout=60, interval=0.2, message="the receiver")
        tested = subprocess.run(
            ["bash", "-e", "-c", test_message], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert tested.returncode == 0 and '"notifications.webhook.tested"' in tested.stdout, (
            tested.stdout + tested.stderr
        )
        wait_until(
            lambda: "notifications.webhook.tested" in printed.read_text(),
            timeout=30,
            interval=0.2,
            message="the test message at the receiver",
        )
        result = subprocess.run(
            ["bash", "-e", "-c", walkthrough_script(platform)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        # The state registry's receiver heard of step 5's three registrations and step 6's completions
        # (Ana's among them), signed, once each.
        registered = ["dev-participant-ca", "ben-cho", "carla-ruiz"]

        def heard(event_type: str) -> list[str]:
            lines = [line.split() for line in printed.read_text().splitlines()]
            return [line[2] for line in lines if line[1:2] == [event_type]]

        wait_until(
            lambda: sorted(heard("scheduling.registration.confirmed")) == sorted(registered),
            timeout=60,
            interval=0.2,
            message=f"{registered} at the receiver",
        )
        # Step 6 prints the cohort's completions, one line each.
        completions = len(re.findall(r"^.+ \d+ sessions [\d.]+ hours, certificate \S+$", result.stdout, flags=re.M))
        assert completions >= 1
        wait_until(
            lambda: len(heard("scheduling.participant.completed")) >= completions,
            timeout=60,
            interval=0.2,
            message=f"{completions} completions at the receiver",
        )
        completed = heard("scheduling.participant.completed")
        assert "dev-participant-ca" in completed and len(completed) == len(set(completed)) == completions

        def logged() -> str:
            return subprocess.run(
                ["bash", "-e", "-c", deliveries], cwd=tmp_path, env=env, capture_output=True, text=True
            ).stdout

        wait_until(
            # The test message, the three registrations and the completions.
            lambda: logged().count("sent 204 ") == 1 + 3 + completions,
            timeout=30,
            interval=0.5,
            message="the delivery log",
        )
        # As step 7 says, Ana's e-mail of her completion is in the mailbox.
        wait_until(
            lambda: "You completed Relationship-Based Care, Bay Area 2027" in mailbox_page(platform),
            timeout=60,
            interval=0.5,
            message="Ana's completion e-mail",
        )
    certificate = (tmp_path / "var" / "certificate.pdf").read_bytes()
    assert certificate.startswith(b"%PDF")
    printed = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate)).pages).split())
    assert "Facilitated by Fran Facilitator" in printed and "8 of 9 sessions" in printed  # as step 7 says
    assert "verified" in result.stdout  # the state registry's CSV export
    # The coach's day: the backfill opened both trainers' plans, the coach saw no notes, the admin the
    # audit of the specialist's write, and Ana's commitment shows due soon in the caseload looking ahead.
    assert '"trainer": "ben-cho"' in result.stdout, result.stdout[-3000:]
    assert '"trainer_name": "Ben Cho"' in result.stdout  # the name he registered under, read by the backfill
    assert "\nNone\n" in result.stdout
    assert "write dev-specialist-ca" in result.stdout
    assert re.search(r"^dev-participant-ca due_soon due \S+ next follow-up None$", result.stdout, flags=re.M)
    # The learning community: twelve calls, Ana's feed of them, her following her thread, Texas named in the
    # synthesis New York reads, and 404 for New York on the community's threads and calls.
    community = result.stdout.split("ana-ruiz\nben-ortiz\ncruz-lee\ngina-cruz\n", 1)[1]
    assert len(re.findall(r"^\S+ 20\d\d-\d\d-\d\dT14:00:00", community, flags=re.M)) == 12, community[:3000]
    assert "\n12\nTrue\n" in community
    assert '"attribution": "attributed"' in community and '"jurisdiction": "TX"' in community
    assert community.rstrip().endswith("404\n404")


def test_the_learning_communities_examples_run_as_written(platform, tmp_path):
    """docs/communities.md's commands, in order: convening and taking part, then the calls and meetings."""
    text = (ROOT / "docs" / "communities.md").read_text()
    script = as_run_here(platform, "\n".join(re.findall(r"```sh\n(.*?)```", text, flags=re.S)))
    (tmp_path / "var").mkdir()  # as at the root of the repository once `make run` has run
    env = {**platform["env"], "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert '"attribution": "attributed"' in result.stdout and "404\n" in result.stdout
    assert "BEGIN:VCALENDAR" in result.stdout  # the member's calendar feed
    assert '"call_id"' in result.stdout  # the audio-conference registration


def test_a_published_material_reaches_the_sessions_of_its_module(platform):
    """content publishes through its outbox and the filesystem broker; scheduling's worker consumes it."""
    import time

    content, scheduling = f"http://127.0.0.1:{platform['port']}", f"http://127.0.0.1:{platform['scheduling_port']}"
    env = platform["env"]

    def token(role, tenant):
        return subprocess.run(
            [sys.executable, "-m", "shared.devtoken", "--role", role, "--tenant", tenant],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    national, admin = token("national_admin", "US"), token("jurisdiction_admin", "CA")
    status, series = get(f"{content}/series", national)
    status, modules = get(f"{content}/series/{series['items'][0]['id']}/modules", national)
    module_id = modules["items"][5]["id"]
    status, material = send(
        "POST",
        f"{content}/materials",
        national,
        {"module_id": module_id, "kind": "video_link", "title": "Individualized care in action"},
    )
    assert status == 201, material
    status, version = send(
        "POST",
        f"{content}/materials/{material['id']}/versions",
        national,
        {"url": "https://video.example.org/individualized-care"},
    )
    assert status == 201, version
    assert send("POST", f"{content}/materials/{material['id']}/publish", national, {})[0] == 200

    status, cohort = send(
        "POST",
        f"{scheduling}/cohorts",
        admin,
        {
            "series_id": series["items"][0]["id"],
            "title": "Event path cohort",
            "format": "virtual",
            "time_zone": "America/Los_Angeles",
            "capacity": 10,
            "facilitators": ["fac-e2e"],
        },
    )
    assert status == 201, cohort
    status, session = send(
        "POST",
        f"{scheduling}/cohorts/{cohort['id']}/sessions",
        admin,
        {
            "module_id": module_id,
            "module_position": 6,
            "title": "Individualized care",
            "starts_at": "2030-01-08T17:00:00Z",
            "ends_at": "2030-01-08T19:00:00Z",
            "meeting_url": "https://meet.example.org/e2e",
        },
    )
    assert status == 201, session
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = get(f"{scheduling}/sessions/{session['id']}", admin)[1]
        if shown["materials"]:
            break
        time.sleep(0.2)
    assert [(m["title"], m["version"]) for m in shown["materials"]] == [("Individualized care in action", 1)]


def test_a_tribe_added_in_scheduling_may_use_content_within_seconds(platform):
    """scheduling announces the Tribe through its outbox and the filesystem broker; content's worker records it."""
    content, scheduling = f"http://127.0.0.1:{platform['port']}", f"http://127.0.0.1:{platform['scheduling_port']}"
    tribe_admin = subprocess.run(
        [sys.executable, "-m", "shared.devtoken", "--role", "jurisdiction_admin", "--tenant", "CTUIR", "--tribe"],
        cwd=ROOT,
        env=platform["env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert get(f"{content}/series", tribe_admin)[0] == 403
    status, added = send(
        "POST",
        f"{scheduling}/jurisdictions",
        token(platform, "national_admin", "US"),
        {
            "code": "CTUIR",
            "name": "Confederated Tribes of the Umatilla Indian Reservation",
            "default_time_zone": "America/Los_Angeles",
        },
    )
    assert status == 201, added
    assert get(f"{scheduling}/agencies", tribe_admin)[0] == 200
    wait_until(
        lambda: get(f"{content}/series", tribe_admin)[0] == 200,
        timeout=20,
        interval=0.2,
        message="content to let the Tribe in",
    )


def send(method: str, url: str, token: str, body: dict):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_each_services_address_leads_to_its_docs(platform):
    opener = urllib.request.build_opener(NoRedirect)
    for port in (platform["port"], platform["scheduling_port"]):
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"http://127.0.0.1:{port}/", timeout=5)
        assert answer.value.code == 302 and answer.value.headers["Location"].endswith("/docs")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as docs:
            assert docs.status == 200 and "swagger" in docs.read().decode().lower()


def test_the_banner_sends_a_new_user_to_the_portal_first(platform):
    with urllib.request.urlopen(f"http://127.0.0.1:{platform['portal_port']}/", timeout=5) as page:
        assert page.status == 200 and "Sign in" in page.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{platform['portal_port']}/sign-in", timeout=5) as page:
        assert "Development sign-in" in page.read().decode()


def test_the_mailbox_shows_the_emails_a_registration_caused(platform):
    base, admin = f"http://127.0.0.1:{platform['scheduling_port']}", token(platform, "jurisdiction_admin", "CA")
    status, cohort = send(
        "POST",
        f"{base}/cohorts",
        admin,
        {
            "series_id": "00000000-0000-4000-8000-000000000001",
            "title": "Mailbox cohort",
            "format": "virtual",
            "time_zone": "America/Los_Angeles",
            "capacity": 5,
            "facilitators": ["fac-mail"],
        },
    )
    assert status == 201, cohort
    status, registration = send(
        "POST",
        f"{base}/cohorts/{cohort['id']}/registrations",
        admin,
        {"participant": "mail-check", "name": "Mail Check", "email": "mail-check@example.org"},
    )
    assert status == 201, registration
    shown = wait_until(
        lambda: "mail-check@example.org" in mailbox_page(platform) and mailbox_page(platform),
        timeout=60,
        interval=0.5,
        message="the e-mail",
    )
    assert "You&#39;re registered" in shown or "You're registered" in shown
    # Someone registered in Spanish reads their confirmation in Spanish, greeted by name.
    status, _ = send(
        "POST",
        f"{base}/cohorts/{cohort['id']}/registrations",
        admin,
        {"participant": "eva-check", "name": "Eva Núñez", "email": "eva-check@example.org", "language": "es"},
    )
    assert status == 201
    eva = wait_until(
        lambda: "eva-check@example.org" in mailbox_page(platform) and mailbox_page(platform),
        timeout=60,
        interval=0.5,
        message="Eva's e-mail",
    )
    [eva_key] = re.findall(r'eva-check@example.org</td>\s*<td><a href="/dev/mailbox/([^"/]+)"', eva)
    with urllib.request.urlopen(
        f"http://127.0.0.1:{platform['notifications_port']}/dev/mailbox/{eva_key}", timeout=10
    ) as page:
        read = page.read().decode()
    assert "Hola, Eva Núñez:" in read and "Inscripción confirmada" in read
    # Her mailbox turns out to be gone: the relay's later report, handed over, sets the address aside.
    notifications = f"http://127.0.0.1:{platform['notifications_port']}"
    status, sent = get(f"{notifications}/deliveries?recipient=eva-check@example.org", admin)
    assert status == 200, sent
    report = urllib.request.Request(
        f"{notifications}/delivery-reports",
        data=postfix_report(sent["items"][0]["message_id"], "eva-check@example.org"),
        method="POST",
        headers={"Content-Type": "message/rfc822"},
    )
    with urllib.request.urlopen(report, timeout=10) as answer:
        assert json.loads(answer.read())["outcome"] == "address_set_aside"
    status, listed = get(f"{notifications}/undeliverable-addresses?cleared=false", admin)
    [aside] = listed["items"]
    assert aside["address"] == "eva-check@example.org" and aside["people"] == [
        {"person": "eva-check", "name": "Eva Núñez"}
    ]

    # The message's page shows its one-click unsubscribe link; a mail provider's button posts to it.
    notifications = f"http://127.0.0.1:{platform['notifications_port']}"
    [key] = re.findall(r'mail-check@example.org</td>\s*<td><a href="/dev/mailbox/([^"/]+)"', shown)
    with urllib.request.urlopen(f"{notifications}/dev/mailbox/{key}", timeout=10) as page:
        [link] = re.findall(rf'<a href="({re.escape(notifications)}/unsubscribe/[^"]+)"', page.read().decode())
    one_click = urllib.request.Request(link, data=b"List-Unsubscribe=One-Click", method="POST")
    one_click.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(one_click, timeout=10) as done:
        assert done.status == 200 and "You will get no more of these e-mails" in done.read().decode()
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{notifications}/contact-points/mail-check/preferences",
            headers={"Authorization": f"Bearer {admin}"},
        ),
        timeout=10,
    ) as answer:
        chosen = json.loads(answer.read())["items"]
    assert [(c["kind"], c["channel"], c["enabled"]) for c in chosen] == [("registration_confirmed", "email", False)]


def test_make_run_says_what_it_runs_on_logs_json_and_ends_quietly_on_ctrl_c(platform):
    """Last, as it stops the platform: the banner, then one JSON object per line, and a quiet Ctrl-C."""
    render_a_certificate(platform)
    returncode, output = stop_with_ctrl_c(platform)
    data_dir = platform["data_dir"]
    banner, _, logs = output.partition("Stop with Ctrl-C.\n")
    assert (
        banner.splitlines()[2]
        == f"  Start here:    http://127.0.0.1:{platform['portal_port']}/   (the portal: sign in as a demo person)"
    )
    assert f"content DB     sqlite:///{data_dir / 'content.db'}" in banner
    assert f"scheduling DB  sqlite:///{data_dir / 'scheduling.db'}" in banner
    assert f"coaching DB    sqlite:///{data_dir / 'coaching.db'}" in banner
    assert f"Broker         filesystem broker in {data_dir / 'broker'}" in banner
    records = []
    for line in logs.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                pytest.fail(f"a line that is not JSON: {line!r}")
    assert all(isinstance(record, dict) and record.get("event") for record in records)
    assert not [line for line in logs.splitlines() if "<class " in line or "fontTools" in line or "Traceback" in line]
    assert any(r.get("path", "").endswith("/certificate.pdf") and r.get("status") == 200 for r in records)
    assert {r.get("process") for r in records} >= {
        "content-api",
        "content-worker",
        "scheduling-api",
        "scheduling-worker",
        "portal",
        "notifications-api",
        "notifications-worker",
        "smtp-sink",
        "coaching-api",
        "coaching-worker",
    }
    assert any(r.get("event") == "outbox relay connected" for r in records)
    sockets = {r["event"] for r in records if r.get("event", "").startswith("Control socket listening")}
    assert sockets == {
        f"Control socket listening at {data_dir / 'content-api.ctl'}",
        f"Control socket listening at {data_dir / 'scheduling-api.ctl'}",
        f"Control socket listening at {data_dir / 'portal-api.ctl'}",
        f"Control socket listening at {data_dir / 'notifications-api.ctl'}",
        f"Control socket listening at {data_dir / 'coaching-api.ctl'}",
    }
    assert returncode == 0
