"""A completed training reaches the participant as an e-mail with their certificate, and state systems as a
signed webhook; coaching's support activities reach state systems' webhooks only."""

from __future__ import annotations

import dataclasses

import pytest

from services.notifications.handlers import build_batch_handlers
from services.notifications.use_cases.notify import Notifier
from shared.envelope import make_event, parse_event
from tests.notifications.conftest import Deliver, Sender, add_contact, subscribe

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


def text_of(message) -> str:
    return " ".join(message.get_body(("plain",)).get_content().split())


def completion(person: str = "ana", *, tenant: str = "CA", hours: float = 16.5, title: str | None = "Fresno, spring"):
    data = {
        "cohort_id": "cohort-1",
        "cohort_title": title,
        "series_id": "series-1",
        "registration_id": f"registration-{person}",
        "participant": person,
        "participant_name": "Ana López",
        "registry_id": "REG-42",
        "sessions_attended": 9,
        "hours": hours,
        "completed_at": "2027-03-02T19:00:00+00:00",
        "certificate_code": "K7QX2M9PLT4W",
    }
    if title is None:
        del data["cohort_title"]  # a completion published before it carried the title
    return make_event(
        "scheduling.participant.completed",
        source="/services/scheduling",
        subject=f"registration-{person}",
        tenant=tenant,
        data=data,
    )


def activity_logged():
    return make_event(
        "coaching.activity.logged",
        source="/services/coaching",
        subject="activity-1",
        tenant="CA",
        data={
            "activity_id": "activity-1",
            "trainer": "ana",
            "author": "sam",
            "kind": "coaching",
            "occurred_on": "2027-03-10",
            "duration_minutes": 60,
            "mode": "virtual",
            "practices": ["primary_care"],
            "follow_up_on": None,
        },
    )


def fulfilled():
    return make_event(
        "coaching.commitment.fulfilled",
        source="/services/coaching",
        subject="commitment-1",
        tenant="CA",
        data={
            "commitment_id": "commitment-1",
            "plan_id": "plan-1",
            "trainer": "ana",
            "specialist": "sam",
            "due_on": "2027-09-02",
            "status": "fulfilled",
            "fulfilled_on": "2027-06-20",
        },
    )


@BOTH
def test_a_completion_tells_the_participant_once_with_the_certificates_code(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org", language="es")
    event = completion("ana")
    deliver.event(event)
    deliver.event(event)  # redelivered: still one e-mail
    deliver.event(completion("ben", hours=18.0, title=None))
    deliver.send()

    [to_ana] = smtp_server.to("ana@example.org")
    assert to_ana["Subject"] == "You completed Fresno, spring"
    text = text_of(to_ana)
    assert "you completed Fresno, spring, attending 9 sessions for 16.5 hours of training." in text
    assert "genuine, without signing in, with its code K7QX2M9PLT4W under “Verify a certificate”." in text
    assert to_ana.get_body(("html",)) is not None
    [to_ben] = smtp_server.to("ben@example.org")
    assert to_ben["Subject"] == "Completó su formación"
    assert "Asistió a 9 sesiones, 18 horas de formación." in text_of(to_ben)


def test_the_completion_email_links_to_the_participants_certificate(notifications_ctx, smtp_server):
    config = dataclasses.replace(notifications_ctx.config, portal_url="https://portal.example.org")
    notifications_ctx.extra["notifier"] = Notifier(config)
    deliver = Deliver(notifications_ctx)
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")

    deliver.event(completion("ana", hours=16.5))
    deliver.send()

    [message] = smtp_server.to("ana@example.org")
    text = text_of(message)
    assert "Asistió a 9 sesiones, 16,5 horas de formación." in text
    assert "Descargar su certificado: https://portal.example.org/registrations/registration-ana/certificate.pdf" in text


@BOTH
def test_state_systems_receive_completions_support_activities_and_fulfilled_commitments_signed(
    hook_ctx, hclient, tokens, receiver, smtp_server
):
    types = ("scheduling.participant.completed", "coaching.activity.logged", "coaching.commitment.fulfilled")
    receiver.secret = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t", types=types)["secret"]
    add_contact(hook_ctx, "ana", "ana@example.org")
    add_contact(hook_ctx, "sam", "sam@example.org")
    sender = Sender(hook_ctx)
    sent = [completion("ana"), activity_logged(), fulfilled()]
    other = completion("ana", tenant="TX")  # another jurisdiction's: never this subscription's
    # As the deployed consumer takes them: in one batch.
    sender.consumer.batch_handlers = build_batch_handlers(hook_ctx.extra["notifier"])
    queue = next(q for q, s in sender.consumer.subscriptions.items() if s.handler == "notify")
    batch = [parse_event(e.to_json()) for e in [*sent, other]]
    assert sender.consumer.handle_batch(queue, batch) == ["handled"] * 4
    sender.send()

    assert all(got["verified"] for got in receiver.received)
    assert sorted(got["payload"]["id"] for got in receiver.received) == sorted(e.id for e in sent)
    by_type = {got["payload"]["type"]: got["payload"] for got in receiver.received}
    assert by_type["scheduling.participant.completed"]["data"]["registry_id"] == "REG-42"
    assert by_type["scheduling.participant.completed"]["data"]["hours"] == 16.5
    assert by_type["coaching.activity.logged"]["data"]["duration_minutes"] == 60
    assert "notes" not in by_type["coaching.activity.logged"]["data"]  # never the confidential notes
    assert by_type["coaching.commitment.fulfilled"]["data"]["fulfilled_on"] == "2027-06-20"
    # The completion and the fulfilment also told their people by e-mail; the support activity nobody.
    assert sorted(m["Subject"] for m in smtp_server.to("ana@example.org")) == [
        "Fulfilled: delivering the training in your community",
        "You completed Fresno, spring",
    ]
    assert [m["Subject"] for m in smtp_server.to("sam@example.org")] == ["Delivered: ana fulfilled their commitment"]


def test_a_subscription_may_ask_for_every_event_notifications_receives_for_people(hclient, tokens, receiver):
    from services.notifications.schemas.webhooks import WEBHOOK_EVENT_TYPES

    assert {
        "scheduling.participant.completed",
        "content.adaptation.submitted",
        "coaching.plan.created",
        "coaching.activity.logged",
        "coaching.commitment.fulfilled",
    } <= set(WEBHOOK_EVENT_TYPES)
    created = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t", types=WEBHOOK_EVENT_TYPES)
    assert created["event_types"] == sorted(WEBHOOK_EVENT_TYPES)
    refused = hclient.post(
        "/webhooks",
        json={"url": f"http://127.0.0.1:{receiver.port}/t4t", "event_types": ["content.thread.replied"]},
        headers=tokens.headers("jurisdiction_admin", "CA"),
    )
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
