"""Coaching's notices reach the people they concern: a trainer's commitment, a coach's follow-up."""

from __future__ import annotations

from datetime import date

from shared.envelope import make_event
from shared.events import CATALOGUE
from shared.messaging.topology import SUBSCRIPTIONS
from tests.notifications.conftest import add_contact

COACHING_NOTICES = ("coaching.commitment.due_soon", "coaching.commitment.overdue", "coaching.followup.due")


def text_of(message) -> str:
    """The plain-text part, its lines joined as a reader reads them."""
    return " ".join(message.get_body(("plain",)).get_content().split())


def commitment_event(kind: str, **extra):
    data = {
        "commitment_id": "commitment-1",
        "plan_id": "plan-1",
        "trainer": "ana",
        "specialist": "sam",
        "due_on": date(2027, 2, 28).isoformat(),
        "status": kind,
        "days_before": 30 if kind == "due_soon" else None,
        **extra,
    }
    return make_event(
        f"coaching.commitment.{kind}", source="/services/coaching", subject="commitment-1", tenant="CA", data=data
    )


def test_notifications_subscribes_to_every_coaching_notice_it_has_a_template_for():
    notified = {t for s in SUBSCRIPTIONS if s.consumer == "notifications" for t in s.event_types}
    assert set(COACHING_NOTICES) <= notified
    assert set(COACHING_NOTICES) <= set(CATALOGUE)


def test_a_commitment_due_soon_tells_the_trainer_in_their_language(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "sam", "sam@example.org")

    deliver.event(commitment_event("due_soon"))
    deliver.send()

    [message] = smtp_server.to("ana@example.org")
    assert message["Subject"] == "Se acerca: impartir la formación en su comunidad"
    assert "antes del domingo 28 de febrero de 2027." in text_of(message)
    assert smtp_server.to("sam@example.org") == []  # due soon is the trainer's own reminder


def test_an_overdue_commitment_tells_the_trainer_and_their_specialist_once(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "sam", "sam@example.org")
    event = commitment_event("overdue")

    deliver.event(event)
    deliver.event(event)  # redelivered
    deliver.send()

    for address in ("ana@example.org", "sam@example.org"):
        [message] = smtp_server.to(address)
        assert message["Subject"] == "Overdue: delivering the training in your community"
        assert "was due Sunday, February 28, 2027 and" in text_of(message)


def test_a_follow_up_due_tells_whoever_set_it(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "sam", "sam@example.org")
    deliver.event(
        make_event(
            "coaching.followup.due",
            source="/services/coaching",
            subject="activity-1",
            tenant="CA",
            data={"activity_id": "activity-1", "trainer": "ana", "author": "sam", "follow_up_on": "2027-01-15"},
        )
    )
    deliver.send()

    [message] = smtp_server.to("sam@example.org")
    assert message["Subject"] == "Follow-up due: your follow-up with ana"
    assert "is due Friday, January 15, 2027." in text_of(message)
