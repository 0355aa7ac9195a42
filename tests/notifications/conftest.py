"""Fixtures of the notifications service: a migrated database, a real SMTP server, events as scheduling sends them."""

from __future__ import annotations

import dataclasses
import email
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifications.webhooks import WebhookPoster
from shared.envelope import make_event
from shared.testing import spare_port
from tests.conftest import config_overrides, migrated_context


class Collector:
    """An aiosmtpd handler that keeps every message it is given, parsed, in arrival order."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.refuse: int | None = None  # an SMTP code to answer DATA with instead of accepting
        # Addresses this server answers RCPT TO for with replies of its own (e.g. "550 5.1.1 No such user"):
        # one reply, given every time, or a list given in turn (then the address is taken).
        self.refuse_recipients: dict[str, str | list[str]] = {}
        self.rcpt_tos: list[str] = []  # every address it was asked to take, refused or not

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_tos.append(address)
            replies = self.refuse_recipients.get(address.lower())
            reply = replies.pop(0) if isinstance(replies, list) and replies else replies
        if isinstance(reply, str):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return f"{self.refuse} Not now"
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def running_smtp_server():
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, keeping what it is given."""
    collector = Collector()
    collector.port = spare_port()
    controller = Controller(collector, hostname="127.0.0.1", port=collector.port)
    controller.start()
    try:
        yield collector
    finally:
        controller.stop()


UNSUBSCRIBE_SECRET = "a-test-secret-of-more-than-32-characters"


@pytest.fixture
def smtp_server():
    with running_smtp_server() as collector:
        yield collector


@pytest.fixture
def notifications_ctx(database, broker, signing_key_file, tmp_path, smtp_server):
    from services.notifications.config import NotificationsConfig

    overrides = config_overrides(database, broker, signing_key_file, tmp_path)
    ctx = migrated_context(
        "notifications",
        NotificationsConfig,
        dict(
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
            send_lease_seconds=30.0,
            unsubscribe_secret=UNSUBSCRIBE_SECRET,  # as deployed: e-mails carry a one-click unsubscribe
            **overrides,
        ),
    )
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def napp(notifications_ctx):
    from services.notifications.app import create_app

    app = create_app(notifications_ctx)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def nclient(napp):
    return napp.test_client()


# --- events as scheduling and content publish them ------------------------------------------------------

SESSION_ID = "5b0f5d3e-0000-4000-8000-000000000001"
COHORT_ID = "c0c0c0c0-0000-4000-8000-000000000001"


def session_data(starts_at: datetime, *, sequence: int = 0, registrants=("ana",), **extra) -> dict:
    ends_at = starts_at + timedelta(hours=3)
    from zoneinfo import ZoneInfo

    la = ZoneInfo("America/Los_Angeles")
    data = {
        "session_id": SESSION_ID,
        "cohort_id": COHORT_ID,
        "series_id": "series-1",
        "module_id": None,
        "module_position": 1,
        "title": "Session 1: Relationship-based care",
        "format": "hybrid",
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "time_zone": "America/Los_Angeles",
        "local_start": starts_at.astimezone(la).isoformat(),
        "local_end": ends_at.astimezone(la).isoformat(),
        "place": {
            "venue": "Sacramento Training Center",
            "address": "1 Capitol Mall, Sacramento, CA",
            "room": "Room 2",
            "accessibility": "Step-free entrance",
        },
        "meeting_url": "https://meet.example.org/session-1",
        "facilitators": ["fac-ca"],
        "registrant_ids": list(registrants),
        "sequence": sequence,
        "reason": None,
        "previous_starts_at": None,
    }
    data.update(extra)
    return data


def session_event(verb: str, data: dict, tenant: str = "CA"):
    return make_event(
        f"scheduling.session.{verb}",
        source="/services/scheduling",
        subject=data["session_id"],
        tenant=tenant,
        data=data,
    )


def registration_event(verb: str, participant: str, email_address: str | None, tenant: str = "CA", **extra):
    data = {
        "registration_id": f"reg-{participant}",
        "cohort_id": COHORT_ID,
        "participant": participant,
        "email": email_address,
        "status": {"promoted": "confirmed"}.get(verb, verb),
        "waitlist_position": None,
        "by": participant,
    }
    data.update(extra)
    return make_event(
        f"scheduling.registration.{verb}",
        source="/services/scheduling",
        subject=data["registration_id"],
        tenant=tenant,
        data=data,
    )


def next_week() -> datetime:
    return (datetime.now(UTC) + timedelta(days=7)).replace(hour=17, minute=0, second=0, microsecond=0)


class Deliver:
    """Hands events to the service's consumer as the broker would (inbox and all), and runs its sender."""

    def __init__(self, ctx):
        from services.notifications.handlers import build_handlers
        from services.notifications.mail import SmtpMailer
        from shared.messaging.consumer import EventConsumer

        self.ctx = ctx
        self.handlers = build_handlers(ctx.extra["notifier"])
        self.consumer = EventConsumer(ctx.extra["bus"], ctx.db, ctx.tables, "notifications", self.handlers)
        self.mailer = SmtpMailer(ctx.config)

    def event(self, event) -> str:
        """Handle ``event`` as received from the broker: its body parsed and checked by the catalogue."""
        from shared.envelope import parse_event

        event = parse_event(event.to_json())
        subscription = next(
            s
            for s in self.ctx.extra["bus"].topology.for_consumer("notifications")
            if s.handler in ("notify", "record_default_specialist") and event.type in s.event_types
        )
        queue = self.ctx.extra["bus"].topology.work_queue(subscription)
        return self.consumer.handle_once(queue, event, self.handlers[subscription.handler])

    def send(self, **kwargs) -> int:
        from services.notifications.use_cases.sending import send_pending

        total = 0
        while True:
            sent = send_pending(self.ctx.db, self.ctx.config, self.mailer, **kwargs)
            total += sent
            if not sent:
                self.mailer.close()
                return total


@pytest.fixture
def deliver(notifications_ctx):
    return Deliver(notifications_ctx)


def add_contact(
    ctx, person: str, email_address: str, *, tenant="CA", language="en", time_zone=None, supervisor=None, name=None
):
    from services.notifications.models import ContactPoint

    with ctx.db.unit_of_work() as uow:
        uow.session.add(
            ContactPoint(
                tenant=tenant,
                person=person,
                name=name,
                email=email_address,
                language=language,
                time_zone=time_zone,
                supervisor_email=supervisor,
            )
        )
        uow.commit()


def copy_supervisors_of_invitations(nclient, tokens, tenant: str = "CA") -> None:
    """The jurisdiction's admin asks for supervisors' copies of session invitations (as the API takes it)."""
    answer = nclient.put(
        "/preferences/session_scheduled",
        json={"email": True, "copy_supervisor": True},
        headers=tokens.headers("jurisdiction_admin", tenant),
    )
    assert answer.status_code == 200, answer.json


# --- webhooks: a state system's receiver, and the service with private addresses allowed -----------------

ADMIN = ("jurisdiction_admin", "CA")


class Receiver:
    """A state system's endpoint on 127.0.0.1: verifies each delivery's signature as its own code would."""

    def __init__(self, port: int | None = None, *, status: int = 204):
        self.port = port or spare_port()
        self.status = status
        self.secret: str | None = None
        self.received: list[dict] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.paths.append(self.path)
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    verified = True
                except WebhookVerificationError:
                    payload, verified = None, False
                receiver.received.append(
                    {"id": self.headers["webhook-id"], "verified": verified, "payload": payload, "path": self.path}
                )
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def hook_ctx(notifications_ctx):
    """The service with private addresses allowed, as on-premises and in tests (WEBHOOK_ALLOW_PRIVATE)."""
    config = dataclasses.replace(notifications_ctx.config, webhook_allow_private=True)
    return dataclasses.replace(notifications_ctx, config=config)


@pytest.fixture
def hclient(hook_ctx):
    from services.notifications.app import create_app

    return create_app(hook_ctx).test_client()


def subscribe(client, tokens, url, types=("scheduling.session.scheduled",), **extra):
    body = {"url": url, "event_types": list(types), "contact_email": "it@state.example.org", **extra}
    answer = client.post("/webhooks", json=body, headers=tokens.headers(*ADMIN))
    assert answer.status_code == 201, answer.json
    return answer.json


class Sender(Deliver):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.poster = WebhookPoster(ctx.config)

    def send(self, **kwargs) -> int:
        from services.notifications.use_cases.sending import send_pending

        total = 0
        while sent := send_pending(self.ctx.db, self.ctx.config, self.mailer, self.poster, **kwargs):
            total += sent
        return total
