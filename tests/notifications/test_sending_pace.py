"""A mail server that limits how fast an account sends (SMTP_MAX_PER_MINUTE) is kept to its pace: the sender
takes only what may go now, and the rest waits untouched, webhook messages not held behind it."""

from __future__ import annotations

import dataclasses

import pytest

from services.notifications.mail import SendingPace, SmtpMailer
from services.notifications.models import Delivery
from tests.notifications.conftest import Sender, add_contact, next_week, session_data, session_event, subscribe

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
OTHER_SESSION = "5b0f5d3e-0000-4000-8000-0000000000cc"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_counts_the_last_sixty_seconds():
    clock = Clock()
    pace = SendingPace(3, clock)
    assert pace.allowed() == 3
    for _ in range(3):
        pace.note_sent()
    assert pace.allowed() == 0
    clock.now += 59.9
    assert pace.allowed() == 0  # a server counting any 60 seconds still sees three
    clock.now += 0.1
    assert pace.allowed() == 3
    assert SendingPace(0, clock).allowed() is None  # no limit


@BOTH
def test_a_mail_server_s_pace_is_kept_and_the_rest_waits_untouched(
    hook_ctx, hclient, tokens, receiver, smtp_server, database
):
    people = ("ana", "ben", "carl", "dora", "eve")
    for person in people:
        add_contact(hook_ctx, person, f"{person}@example.org")
    receiver.secret = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")["secret"]
    ctx = dataclasses.replace(hook_ctx, config=dataclasses.replace(hook_ctx.config, smtp_max_per_minute=3))
    clock = Clock()
    sender = Sender(ctx)
    sender.mailer = SmtpMailer(ctx.config, clock=clock)
    sender.event(session_event("scheduled", session_data(next_week(), registrants=people)))

    assert sender.send() == 4  # three e-mails and the webhook message
    assert len(smtp_server.messages) == 3 and len(receiver.received) == 1
    with ctx.db.session() as session:
        waiting = session.query(Delivery).filter(Delivery.status == "pending").all()
    assert [(d.channel, d.attempts, d.last_error) for d in waiting] == [("email", 0, None)] * 2

    # Within the minute, only webhook messages go: a new event's message is not kept behind the e-mails.
    other = session_data(next_week(), registrants=("ana",))
    other["session_id"] = OTHER_SESSION
    sender.event(session_event("scheduled", other))
    clock.now += 59
    assert sender.send(limit=2) == 1  # the two older e-mails come first in a batch of two, and are passed over
    assert len(smtp_server.messages) == 3 and len(receiver.received) == 2

    clock.now += 1  # a minute after the first three
    assert sender.send() == 3
    assert len(smtp_server.messages) == 6
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [f"{p}@example.org" for p in people] + ["ana@example.org"]
    )


def test_a_sender_without_a_mailer_sends_webhook_messages_and_leaves_the_e_mails(
    hook_ctx, hclient, tokens, receiver, smtp_server
):
    from services.notifications.use_cases.sending import send_pending

    add_contact(hook_ctx, "ana", "ana@example.org")
    receiver.secret = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")["secret"]
    sender = Sender(hook_ctx)
    sender.event(session_event("scheduled", session_data(next_week())))
    assert send_pending(hook_ctx.db, hook_ctx.config, None, sender.poster) == 1
    assert len(receiver.received) == 1 and smtp_server.messages == []
    assert sender.send() == 1 and len(smtp_server.messages) == 1  # the e-mail waited for a mailer
