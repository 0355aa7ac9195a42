"""Webhooks to a real HTTP receiver: signatures verified with the Standard Webhooks library, retries until the
receiver comes back, 3xx as failure, private addresses refused, redelivery, and endpoints disabled after days."""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifications.domain.webhooks import RETRY_SCHEDULE, RefusedAddress, next_wait
from services.notifications.webhooks import _adapter
from shared.testing import spare_port
from tests.notifications.conftest import (
    ADMIN,
    Receiver,
    Sender,
    add_contact,
    next_week,
    session_data,
    session_event,
    subscribe,
)


def test_every_delivery_is_signed_so_the_receiver_can_verify_it(hook_ctx, hclient, tokens, receiver):
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    assert "secret" not in hclient.get(f"/webhooks/{created['id']}", headers=tokens.headers(*ADMIN)).json
    receiver.secret = created["secret"]
    sender = Sender(hook_ctx)
    event = session_event("scheduled", session_data(next_week()))
    sender.event(event)
    sender.event(session_event("cancelled", session_data(next_week(), sequence=1)))  # not subscribed
    assert sender.send() == 1
    [got] = receiver.received
    assert got["verified"] and got["payload"]["id"] == event.id and got["payload"]["type"] == event.type
    [logged] = hclient.get("/deliveries?template=scheduling.session.scheduled", headers=tokens.headers(*ADMIN)).json[
        "items"
    ]
    assert logged["channel"] == "webhook" and logged["message_id"] == got["id"]
    assert logged["status"] == "sent" and logged["latency_ms"] is not None
    # A tampered body or another secret fails the receiver's check.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43).verify(json.dumps(got["payload"]), {"webhook-id": got["id"]})


def test_deliveries_retry_while_the_receiver_is_down_and_succeed_when_it_is_back(hook_ctx, hclient, tokens):
    port = spare_port()
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{port}/t4t")
    sender = Sender(hook_ctx)
    sender.event(session_event("scheduled", session_data(next_week())))
    assert sender.send() == 0  # nobody listens: the first attempt fails at once
    headers = tokens.headers(*ADMIN)
    [waiting] = hclient.get("/deliveries?status=pending", headers=headers).json["items"]
    assert waiting["attempts"] == 1 and "Connection" in waiting["last_error"]
    wait = datetime.fromisoformat(waiting["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=3) < wait <= timedelta(seconds=6)  # the schedule's 5 s, give or take 10 %
    assert sender.send(now=datetime.now(UTC) + timedelta(seconds=6)) == 0  # still down: next wait ~5 min
    back = Receiver(port)
    back.secret = created["secret"]
    try:
        assert sender.send(now=datetime.now(UTC) + timedelta(minutes=6)) == 1
    finally:
        back.stop()
    [got] = back.received
    assert got["verified"] and got["id"] == waiting["message_id"]
    shown = hclient.get(f"/deliveries/{waiting['id']}", headers=headers).json
    assert (shown["status"], shown["attempts"], shown["response_status"]) == ("sent", 3, 204)


def test_a_redirect_is_a_failure_and_is_not_followed(hook_ctx, hclient, tokens):
    receiver = Receiver(status=302)
    try:
        created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
        receiver.secret = created["secret"]
        sender = Sender(hook_ctx)
        sender.event(session_event("scheduled", session_data(next_week())))
        assert sender.send() == 0
        assert receiver.paths == ["/t4t"]  # /elsewhere never asked
        [row] = hclient.get("/deliveries?status=pending", headers=tokens.headers(*ADMIN)).json["items"]
        assert row["response_status"] == 302 and row["last_error"] == "the receiver answered 302"
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",  # not https
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://2130706433/hook",
        "https://017700000001/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://localhost/hook",
        f"https://{socket.gethostname()}/hook",  # a name that resolves to a loopback address
        "https://user:pw@example.org/hook",
    ],
)
def test_a_private_or_local_address_is_refused_with_422(nclient, tokens, url):
    body = {"url": url, "event_types": ["scheduling.session.scheduled"], "contact_email": "it@state.example.org"}
    answer = nclient.post("/webhooks", json=body, headers=tokens.headers(*ADMIN))
    assert answer.status_code == 422, answer.json
    assert answer.content_type == "application/problem+json"
    assert list(answer.json["errors"]) == ["url"]  # the address is the only thing wrong
    assert nclient.get("/webhooks", headers=tokens.headers(*ADMIN)).json["items"] == []


def test_the_address_actually_connected_to_is_checked(receiver):
    session = requests.Session()
    session.mount("http://", _adapter(allow_private=False))
    with pytest.raises(RefusedAddress, match="connection reached .* loopback"):
        session.post(f"http://127.0.0.1:{receiver.port}/t4t", data=b"{}", timeout=5)
    assert receiver.paths == []  # refused before a byte of the request was sent


def test_one_message_or_everything_since_a_time_is_delivered_again(hook_ctx, hclient, tokens, receiver):
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    receiver.secret = created["secret"]
    sender = Sender(hook_ctx)
    before = datetime.now(UTC) - timedelta(seconds=1)
    sender.event(session_event("scheduled", session_data(next_week())))
    sender.send()
    headers = tokens.headers(*ADMIN)
    [row] = hclient.get("/deliveries?status=sent", headers=headers).json["items"]
    assert hclient.post(f"/deliveries/{row['id']}/retry", headers=headers).status_code == 200
    sender.send()
    answer = hclient.post(f"/webhooks/{created['id']}/redeliver", json={"since": before.isoformat()}, headers=headers)
    assert answer.status_code == 202 and answer.json == {"queued": 1}
    sender.send()
    assert [r["id"] for r in receiver.received] == [row["message_id"]] * 3
    assert all(r["verified"] for r in receiver.received)


def test_an_endpoint_failing_for_days_is_disabled_and_its_admin_and_contact_told(
    hook_ctx, hclient, tokens, smtp_server
):
    # California's admin, who subscribes, reads Spanish; the registry's IT contact is told too.
    add_contact(hook_ctx, "jurisdiction_admin-ca", "lead@ca.example.gov", language="es", name="Rosa Díaz")
    port = spare_port()
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{port}/t4t", contact_email="it@state.example.org")
    ctx = dataclasses.replace(hook_ctx, config=dataclasses.replace(hook_ctx.config, webhook_disable_after_hours=48))
    sender = Sender(ctx)
    sender.event(session_event("scheduled", session_data(next_week())))
    sender.send()
    assert hclient.get(f"/webhooks/{created['id']}", headers=tokens.headers(*ADMIN)).json["status"] == "active"
    sender.send(now=datetime.now(UTC) + timedelta(days=3))
    shown = hclient.get(f"/webhooks/{created['id']}", headers=tokens.headers(*ADMIN)).json
    assert shown["status"] == "disabled" and shown["failing_since"]
    sender.send(now=datetime.now(UTC) + timedelta(days=3))
    [told] = smtp_server.to("it@state.example.org")
    text = told.get_body(("plain",)).get_content()
    assert told["Subject"] == "A webhook endpoint of your jurisdiction was disabled"
    assert f"http://127.0.0.1:{port}/t4t has failed every delivery since" in " ".join(text.split())
    assert f"POST /webhooks/{created['id']}/enable" in " ".join(text.split())
    assert "you subscribed this endpoint" in " ".join(text.split())  # not the participants' footer
    assert "has been disabled" in told.get_body(("html",)).get_content()
    assert "Hello" not in text and "Rosa" not in text  # the contact address is no one's: no name to greet
    [admin] = smtp_server.to("lead@ca.example.gov")
    assert admin["Subject"] == "Se desactivó un webhook de su jurisdicción"
    assert "se ha desactivado" in admin.get_body(("plain",)).get_content()
    assert admin.get_body(("plain",)).get_content().startswith("Hola, Rosa Díaz:\n\n")
    enabled = hclient.post(f"/webhooks/{created['id']}/enable", headers=tokens.headers(*ADMIN))
    assert enabled.status_code == 200 and enabled.json["status"] == "active"


def test_the_admin_told_of_a_disabled_endpoint_is_led_to_the_portals_webhooks_page(
    hook_ctx, hclient, tokens, smtp_server
):
    add_contact(hook_ctx, "jurisdiction_admin-ca", "lead@ca.example.gov")
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{spare_port()}/t4t", contact_email="it@state.example.org")
    config = dataclasses.replace(
        hook_ctx.config, webhook_disable_after_hours=48, portal_url="https://portal.example.org"
    )
    sender = Sender(dataclasses.replace(hook_ctx, config=config))
    sender.event(session_event("scheduled", session_data(next_week())))
    sender.send()
    sender.send(now=datetime.now(UTC) + timedelta(days=3))
    sender.send(now=datetime.now(UTC) + timedelta(days=3))

    [admin] = smtp_server.to("lead@ca.example.gov")
    text = " ".join(admin.get_body(("plain",)).get_content().split())
    assert "See your webhooks: https://portal.example.org/webhooks" in text
    assert "on the Webhooks page of the program's portal" in text and f"POST /webhooks/{created['id']}/enable" in text
    assert 'href="https://portal.example.org/webhooks"' in admin.get_body(("html",)).get_content()
    [contact] = smtp_server.to("it@state.example.org")  # an address, no person of the platform: no page of theirs
    assert "portal.example.org/webhooks" not in contact.get_body(("plain",)).get_content()


def test_a_subscription_nobody_could_be_told_about_is_refused(hclient, hook_ctx, tokens, receiver):
    body = {"url": f"http://127.0.0.1:{receiver.port}/t4t", "event_types": ["scheduling.session.scheduled"]}
    # A state system's key, or an admin the platform has no e-mail address for: name a contact.
    for who in (tokens.headers("integration", "CA"), tokens.headers(*ADMIN)):
        answer = hclient.post("/webhooks", json=body, headers=who)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert "contact_email" in answer.json["errors"]
    assert hclient.get("/webhooks", headers=tokens.headers(*ADMIN)).json["items"] == []
    # The admin with a contact point is told at it: no contact_email needed.
    add_contact(hook_ctx, "jurisdiction_admin-ca", "lead@ca.example.gov")
    assert hclient.post("/webhooks", json=body, headers=tokens.headers(*ADMIN)).status_code == 201


def test_another_jurisdiction_cannot_see_or_touch_a_subscription(hclient, tokens, receiver):
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    ny = tokens.headers("jurisdiction_admin", "NY")
    for answer in (
        hclient.get(f"/webhooks/{created['id']}", headers=ny),
        hclient.delete(f"/webhooks/{created['id']}", headers=ny),
        hclient.post(f"/webhooks/{created['id']}/redeliver", json={"since": "2026-01-01T00:00:00Z"}, headers=ny),
    ):
        assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    assert hclient.get("/webhooks", headers=ny).json["items"] == []


def test_the_retry_schedule_spans_about_a_day_with_jitter():
    import random

    total = sum(RETRY_SCHEDULE, timedelta())
    assert timedelta(hours=20) < total < timedelta(hours=30)
    assert RETRY_SCHEDULE[0] == timedelta(seconds=5) and RETRY_SCHEDULE[-1] == timedelta(hours=10)
    waits = [next_wait(1, random.Random(seed)) for seed in range(50)]
    assert all(timedelta(seconds=4.5) <= w <= timedelta(seconds=5.5) for w in waits) and len(set(waits)) > 1
    assert next_wait(len(RETRY_SCHEDULE) + 1) is None


def test_a_deleted_subscription_says_so_in_the_list_a_state_system_syncs_and_cannot_be_enabled(
    hook_ctx, hclient, tokens, receiver
):
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    headers = tokens.headers(*ADMIN)
    synced = hclient.get("/webhooks?changed_after=0", headers=headers).json
    sender = Sender(hook_ctx)
    sender.event(session_event("scheduled", session_data(next_week())))  # a message waiting for it

    assert hclient.delete(f"/webhooks/{created['id']}", headers=headers).status_code == 204
    assert hclient.delete(f"/webhooks/{created['id']}", headers=headers).status_code == 204  # asked twice
    shown = hclient.get(f"/webhooks/{created['id']}", headers=headers).json
    assert (shown["status"], shown["event_types"]) == ("deleted", [])
    changes = hclient.get(f"/webhooks?changed_after={synced['last_change']}", headers=headers).json["items"]
    assert [(c["id"], c["status"]) for c in changes] == [(created["id"], "deleted")]
    for refused in (
        hclient.post(f"/webhooks/{created['id']}/enable", headers=headers),
        hclient.post(f"/webhooks/{created['id']}/redeliver", json={"since": "2026-01-01T00:00:00Z"}, headers=headers),
    ):
        assert refused.status_code == 409 and refused.content_type == "application/problem+json"
        assert "deleted" in refused.json["detail"]
    assert sender.send() == 0 and receiver.received == []
    [failed] = hclient.get("/deliveries?channel=webhook&status=failed", headers=headers).json["items"]
    assert failed["last_error"] == "the subscription is disabled or deleted"


def test_a_test_message_reaches_the_endpoint_signed_once_and_a_failing_one_is_not_retried(
    hook_ctx, hclient, tokens, receiver
):
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    receiver.secret = created["secret"]
    headers = tokens.headers(*ADMIN)
    sender = Sender(hook_ctx)

    queued = hclient.post(f"/webhooks/{created['id']}/test", headers=headers)
    assert queued.status_code == 202 and queued.json["status"] == "pending"
    assert queued.headers["Location"].endswith(f"/deliveries/{queued.json['id']}")
    assert sender.send() == 1
    [received] = receiver.received
    assert received["verified"] and received["id"] == queued.json["message_id"]
    assert received["payload"]["type"] == "notifications.webhook.tested"
    assert received["payload"]["data"] == {
        "subscription_id": created["id"],
        "url": f"http://127.0.0.1:{receiver.port}/t4t",
        "requested_by": "jurisdiction_admin-ca",
    }
    assert hclient.get(f"/deliveries/{queued.json['id']}", headers=headers).json["status"] == "sent"

    # The endpoint answers 500: the test fails at once, and the endpoint is not counted as failing.
    receiver.status = 500
    failing = hclient.post(f"/webhooks/{created['id']}/test", headers=headers).json
    assert sender.send() == 0
    shown = hclient.get(f"/deliveries/{failing['id']}", headers=headers).json
    assert (shown["status"], shown["attempts"], shown["response_status"]) == ("failed", 1, 500)
    assert hclient.get(f"/webhooks/{created['id']}", headers=headers).json["failing_since"] is None
    listed = hclient.get("/deliveries?template=notifications.webhook.tested", headers=headers).json["items"]
    assert [d["status"] for d in listed] == ["sent", "failed"]
    receiver.status = 204
    since = hclient.post(
        f"/webhooks/{created['id']}/redeliver", json={"since": "2026-01-01T00:00:00Z"}, headers=headers
    )
    assert since.json == {"queued": 0}  # tests are not sent again with everything since a day

    other = tokens.headers("jurisdiction_admin", "TX")
    assert hclient.post(f"/webhooks/{created['id']}/test", headers=other).status_code == 404
    assert (
        hclient.post(f"/webhooks/{created['id']}/test", headers=tokens.headers("participant", "CA")).status_code == 403
    )
    hclient.delete(f"/webhooks/{created['id']}", headers=headers)
    gone = hclient.post(f"/webhooks/{created['id']}/test", headers=headers)
    assert gone.status_code == 409 and gone.content_type == "application/problem+json"
