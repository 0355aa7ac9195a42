"""A learning community from convening to a published synthesis, through the running services as deployed.

content, scheduling and notifications run as their gunicorn processes and workers (the Procfile's
commands) on PostgreSQL and RabbitMQ; notifications sends through a real SMTP server (aiosmtpd) that
this test reads. Everything is done through the services' public HTTP interfaces and read back from
the mail that arrives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import vobject

from shared.testing import AUDIENCE, ISSUER, spare_port, wait_until
from tests.helpers import migrate_and_seed
from tests.notifications.conftest import running_smtp_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("content", "scheduling", "notifications")
PG_AND_RABBITMQ = [pytest.param("postgres", "rabbitmq", id="postgres-rabbitmq")]

STAFF = ("national_admin", "US", "staff-rosa")
# Three member jurisdictions, several people each: a state, a Tribe and a territory.
MEMBERS = {
    "CA": [("participant", "CA", "ca-ana"), ("specialist", "CA", "ca-ben")],
    "CTUIR": [("specialist", "CTUIR", "ctuir-dana"), ("participant", "CTUIR", "ctuir-tom")],
    "GU": [("participant", "GU", "gu-gina"), ("specialist", "GU", "gu-leo")],
}
PEOPLE = [person for team in MEMBERS.values() for person in team]
NY_ADMIN = ("jurisdiction_admin", "NY", "admin-ny")  # a fourth jurisdiction, not a member


def address(sub: str) -> str:
    return f"{sub}@example.org"


class Api:
    """JSON over HTTP to one running service, as a client of the platform would send it."""

    def __init__(self, port: int, tokens):
        self.base, self.tokens = f"http://127.0.0.1:{port}", tokens

    def __call__(self, method: str, path: str, who, body=None, *, raw: bytes | None = None, content_type=None):
        role, tenant, sub = who
        headers = {"Authorization": f"Bearer {self.tokens.token(role, tenant, sub=sub)}"}
        data = raw
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except urllib.error.URLError:
            return None, None  # not listening yet

    def ok(self, method: str, path: str, who, body=None, status: int = 200, **kwargs) -> dict:
        answer, payload = self(method, path, who, body, **kwargs)
        assert answer == status, (method, path, answer, payload)
        return payload


@pytest.fixture
def smtp():
    with running_smtp_server() as collector:
        yield collector


@pytest.fixture
def platform(database, broker, signing_key_file, tokens, smtp, tmp_path):
    """content, scheduling and notifications migrated, seeded and running: an API and a worker each."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_URL", "SMTP_"))}
    env.update(
        BROKER_URL=broker["url"],
        BROKER_NAMESPACE=broker["namespace"],
        JWT_ISSUER=ISSUER,
        JWT_AUDIENCE=AUDIENCE,
        JWT_JWKS_URL="",
        JWT_DEV_PRIVATE_KEY_FILE=signing_key_file,
        DATA_DIR=str(tmp_path),
        CONTENT_STORAGE_DIR=str(tmp_path / "files"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SEND_INTERVAL="0.2",
        OUTBOX_POLL_INTERVAL="0.1",
        WEB_CONCURRENCY="1",
        LOG_LEVEL="INFO",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.pop("FORWARDED_ALLOW_IPS", None)
    ports = {}
    for service in SERVICES:
        # One PostgreSQL database, each service in its own schema, as in a deployment sharing a server.
        env[f"{service.upper()}_DATABASE_URL"] = database["url"]
        env[f"{service.upper()}_DB_SCHEMA"] = f"{database['schema']}_{service}"
        ports[service] = spare_port()
        env[f"{service.upper()}_PORT"] = str(ports[service])
    migrate_and_seed(env, SERVICES)
    processes, logs = [], {}
    conf = {"scheduling": "python:services.scheduling.gunicorn_conf"}
    try:
        for service in SERVICES:
            for name, command in (
                (
                    f"{service}-api",
                    ["gunicorn", "-c", conf.get(service, "python:shared.gunicorn_conf"), "--no-control-socket"]
                    + ["--bind", f"127.0.0.1:{ports[service]}", f"services.{service}.wsgi:app"],
                ),
                (f"{service}-worker", [sys.executable, "-m", f"services.{service}.worker"]),
            ):
                logs[name] = tmp_path / f"{name}.log"
                process_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prom-{name}")}
                Path(process_env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=process_env,
                        stdout=logs[name].open("wb"),
                        stderr=subprocess.STDOUT,
                    )
                )
        apis = {service: Api(ports[service], tokens) for service in SERVICES}
        for service, api in apis.items():
            wait_until(lambda api=api: healthy(api), timeout=60, interval=0.2, message=service)
        # Each worker's queues are bound before anything is published (a message to no queue is dropped).
        for service in SERVICES:
            log = logs[f"{service}-worker"]
            wait_until(
                lambda log=log: "consumer connected" in log.read_text(errors="replace"),
                timeout=60,
                interval=0.2,
                message=f"{service}'s worker to consume",
            )
        yield apis
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def healthy(api: Api) -> bool:
    """Whether the service answers its health check (while it starts, whatever answers is not it)."""
    try:
        return api("GET", "/healthz", STAFF)[0] == 200
    except ValueError:
        return False


def invites(messages) -> list:
    """The calendar invites of these messages, read by an independent iCalendar parser (vobject)."""
    found = []
    for message in messages:
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                found.append(vobject.readOne(part.get_content()))
    return found


def second_tuesday_of_next_january() -> date:
    first = date(date.today().year + 1, 1, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def a_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def multipart(fields: dict, file: tuple[str, str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    name, kind, data = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("database,broker", PG_AND_RABBITMQ, indirect=True)
def test_a_learning_community_from_convening_to_a_synthesis_every_jurisdiction_reads(platform, smtp):
    content, scheduling, notifications = platform["content"], platform["scheduling"], platform["notifications"]

    # The Tribe is added in scheduling; content learns of it from the event before it may be a member.
    scheduling.ok(
        "POST",
        "/jurisdictions",
        STAFF,
        {
            "code": "CTUIR",
            "name": "Confederated Tribes of the Umatilla Indian Reservation",
            "default_time_zone": "America/Los_Angeles",
        },
        status=201,
    )

    # Staff convene the community, with Rosa as its facilitator.
    community = content.ok(
        "POST",
        "/communities",
        STAFF,
        {
            "title": "Infant/Toddler Specialist Networks",
            "focus_area": "specialist_networks",
            "goals": ["Map each network's reach"],
            "starts_on": "2027-06-16",
            "planned_months": 12,
            "facilitators": [{"sub": "staff-rosa", "name": "Rosa Staff", "email": address("staff-rosa")}],
        },
        status=201,
    )
    cid = community["id"]

    # Members from three jurisdictions, two people each.
    for _role, tenant, sub in PEOPLE:
        body = {"sub": sub, "kind": "team_member", "jurisdiction": tenant, "name": sub, "email": address(sub)}
        if sub == "ca-ana":
            body["language"] = "es"
        wait_until(
            lambda body=body: content("POST", f"/communities/{cid}/members", STAFF, body)[0] == 201,
            timeout=20,
            interval=0.2,
            message=f"{sub} to join (content to know {tenant})",
        )

    # Scheduling learns the community and its members from content's events.
    for person in PEOPLE:
        wait_until(
            lambda person=person: scheduling("GET", f"/communities/{cid}/calls", person)[0] == 200,
            timeout=30,
            interval=0.2,
            message=f"scheduling to know {person[2]} is a member",
        )

    # Twelve monthly calls from one recurrence rule.
    first = second_tuesday_of_next_january()
    calls = scheduling.ok(
        "POST",
        f"/communities/{cid}/calls",
        STAFF,
        {
            "kind": "interactive_call",
            "title": "Monthly community call",
            "agenda": "Introductions\nState updates",
            "local_start": f"{first.isoformat()}T14:00:00",
            "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=12",
            "meeting_url": "https://meet.example.org/itsn",
        },
        status=201,
    )["calls"]
    assert len(calls) == 12
    uids = {f"{call['id']}@t4t-platform" for call in calls}

    # Each member (and the facilitator) receives an invitation to each call, with its .ics.
    invitees = [sub for _, _, sub in PEOPLE] + ["staff-rosa"]
    for sub in invitees:
        wait_until(
            lambda sub=sub: len(invites(smtp.to(address(sub)))) >= 12,
            timeout=60,
            interval=0.3,
            message=f"{sub}'s twelve invitations",
        )
        received = invites(smtp.to(address(sub)))
        assert len(received) == 12
        assert {cal.method.value for cal in received} == {"REQUEST"}
        assert {cal.vevent.uid.value for cal in received} == uids
        assert {cal.vevent.sequence.value for cal in received} == {"0"}
        assert {cal.vevent.attendee.value for cal in received} == {f"mailto:{address(sub)}"}
    assert smtp.to(address("ca-ana"))[0]["Subject"].startswith("Invitación")  # in Ana's language

    # A thread: Ana opens it; Dana and Gina reply (and so follow it); Gina takes replies in a daily digest.
    notifications.ok(
        "PUT",
        "/contact-points/gu-gina/preferences/thread_replied",
        MEMBERS["GU"][0],
        {"channel": "email", "enabled": True, "digest": "daily"},
    )
    thread = content.ok(
        "POST",
        f"/communities/{cid}/threads",
        MEMBERS["CA"][0],
        {"title": "Caseloads", "body": "How many programs does each of your specialists carry?"},
        status=201,
    )
    tid = thread["id"]
    content.ok(
        "POST",
        f"/communities/{cid}/threads/{tid}/replies",
        MEMBERS["CTUIR"][0],
        {"body": "Eight each, with travel across the reservation."},
        status=201,
    )
    gina_reply = content.ok(
        "POST",
        f"/communities/{cid}/threads/{tid}/replies",
        MEMBERS["GU"][0],
        {"body": "Ten each on Guam, reviewed every quarter."},
        status=201,
    )
    content.ok(
        "POST",
        f"/communities/{cid}/threads/{tid}/replies",
        MEMBERS["CA"][1],
        {"body": "Twelve each in California."},
        status=201,
    )

    def reply_notices(sub: str) -> list:
        return [m for m in smtp.to(address(sub)) if "Caseloads" in m["Subject"] and not invites([m])]

    # Ben's reply reaches Ana and Dana now; each reply before it reached those who followed by then.
    wait_until(lambda: len(reply_notices("ca-ana")) == 3, timeout=30, interval=0.2, message="Ana's reply notices")
    wait_until(lambda: len(reply_notices("ctuir-dana")) == 2, timeout=30, interval=0.2, message="Dana's notices")
    assert "Twelve each in California" in reply_notices("ctuir-dana")[-1].get_body(("plain",)).get_content()
    # Gina's notice of Ben's reply is held for her digest, not sent.
    gu_admin = ("jurisdiction_admin", "GU", "admin-gu")
    held = notifications.ok("GET", "/deliveries?person=gu-gina&template=thread_replied&status=held", gu_admin)
    assert len(held["items"]) == 1
    assert reply_notices("gu-gina") == [] and reply_notices("ca-ben") == []  # Ben wrote it; Gina waits

    # A document posted by the Tribe's member.
    body, kind = multipart({"title": "CTUIR specialist network map"}, ("network-map.pdf", "application/pdf", a_pdf()))
    document = content.ok(
        "POST", f"/communities/{cid}/documents", MEMBERS["CTUIR"][0], raw=body, content_type=kind, status=201
    )

    # Staff mark one contribution of each jurisdiction as a knowledge product.
    products = [
        content.ok(
            "POST",
            f"/communities/{cid}/knowledge-products",
            STAFF,
            {"source_kind": source_kind, "source_id": source_id, "note": note},
            status=201,
        )["id"]
        for source_kind, source_id, note in (
            ("thread", tid, "California's question"),
            ("reply", gina_reply["id"], "Guam's caseload norm"),
            ("document", document["id"], "The Tribe's network map"),
        )
    ]
    # Consent: California's admin lets it be named; Guam's admin chooses an anonymised summary; the Tribe
    # records nothing, so its contribution is left out.
    content.ok(
        "PUT", f"/communities/{cid}/consents/CA", ("jurisdiction_admin", "CA", "admin-ca"), {"choice": "attribute"}
    )
    content.ok("PUT", f"/communities/{cid}/consents/GU", gu_admin, {"choice": "anonymise"})
    synthesis = content.ok(
        "POST",
        f"/communities/{cid}/syntheses",
        STAFF,
        {
            "title": "What the networks learnt about caseloads",
            "summary": "Specialists carry about ten programs each.",
            "knowledge_products": products,
        },
        status=201,
    )
    content.ok("POST", f"/communities/{cid}/syntheses/{synthesis['id']}/publish", STAFF)

    # New York, not a member, reads the published synthesis: California named, Guam anonymised, the Tribe out.
    published = content.ok("GET", f"/syntheses/{synthesis['id']}", NY_ADMIN)
    shown = sorted((c["attribution"], c["jurisdiction"]) for c in published["contributions"])
    assert shown == [("anonymised", None), ("attributed", "CA")]
    assert "CTUIR" not in json.dumps(published)
    assert [s["id"] for s in content.ok("GET", "/syntheses", NY_ADMIN)["items"]] == [synthesis["id"]]
    # …and nothing of the community's space.
    for path in (f"/communities/{cid}", f"/communities/{cid}/threads", f"/communities/{cid}/threads/{tid}"):
        assert content("GET", path, NY_ADMIN)[0] == 404, path
    assert scheduling("GET", f"/communities/{cid}/calls", NY_ADMIN)[0] == 404
    assert scheduling("GET", f"/community-calls/{calls[0]['id']}", NY_ADMIN)[0] == 404
    assert cid not in json.dumps(content.ok("GET", "/communities", NY_ADMIN))

    # A member who leaves gets exactly one CANCEL of the calls: same UIDs, a higher SEQUENCE.
    content.ok("DELETE", f"/communities/{cid}/members/gu-leo", MEMBERS["GU"][1])

    def cancels():
        return [cal for cal in invites(smtp.to(address("gu-leo"))) if cal.method.value == "CANCEL"]

    wait_until(lambda: cancels(), timeout=30, interval=0.2, message="Leo's cancellation")
    time.sleep(1.0)  # long enough for a second one to arrive, were one written
    [cancel] = cancels()
    assert {event.uid.value for event in cancel.vevent_list} == uids
    assert {event.sequence.value for event in cancel.vevent_list} == {"1"}
