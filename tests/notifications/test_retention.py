"""The delivery log forgets what it no longer needs: a settled message's content after a month, its row after
about a year, sent reminders with the content; what is still to be sent is never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.models import Delivery, Reminder
from services.notifications.use_cases.reminders import write_due_reminders
from services.notifications.use_cases.retention import Forgotten, forget_old_messages
from shared.config import ConfigError
from tests.notifications.conftest import ADMIN, Sender, add_contact, next_week, session_data, session_event, subscribe
from tests.notifications.test_community_notices import call_data, call_event, community  # noqa: F401 - a fixture

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
LATER_SESSION = "5b0f5d3e-0000-4000-8000-0000000000bb"


def rows(ctx) -> dict[str, Delivery]:
    with ctx.db.session() as session:
        return {d.id: d for d in session.query(Delivery)}


def reminders(ctx) -> list[tuple[str, str]]:
    with ctx.db.session() as session:
        return sorted((r.session_id, r.status) for r in session.query(Reminder))


@BOTH
def test_a_settled_message_loses_its_content_after_a_month_and_its_row_after_a_year(
    hook_ctx, hclient, tokens, receiver, smtp_server, database
):
    add_contact(hook_ctx, "ana", "ana@example.org")  # her messages are sent
    add_contact(hook_ctx, "ben", "ben@example.org")  # his are refused (policy): failed
    add_contact(hook_ctx, "carl", "carl@example.org")  # his mailbox is busy: still to be tried again
    smtp_server.refuse_recipients["ben@example.org"] = "554 5.7.1 Policy rejection"
    smtp_server.refuse_recipients["carl@example.org"] = "450 4.2.1 Mailbox busy"
    hook = subscribe(hclient, tokens, f"http://127.0.0.1:{receiver.port}/t4t")
    receiver.secret = hook["secret"]
    sender = Sender(hook_ctx)
    written = datetime.now(UTC)
    starts = next_week()
    sender.event(session_event("scheduled", session_data(starts, registrants=("ana", "ben", "carl"))))
    later = session_data(starts + timedelta(days=90), registrants=("ana",))
    later["session_id"] = LATER_SESSION
    sender.event(session_event("scheduled", later))
    sender.send()
    assert write_due_reminders(hook_ctx.db, hook_ctx.extra["notifier"], now=starts) >= 1  # the first session's
    sender.send(now=starts)
    before = rows(hook_ctx)
    settled = {i for i, row in before.items() if row.status in ("sent", "failed")}
    waiting = {i for i, row in before.items() if row.status == "pending"}
    assert {before[i].recipient for i in waiting} == {"carl@example.org"}
    assert {before[i].channel for i in settled} == {"email", "webhook"} and len(settled) >= 6
    [failed] = [i for i in settled if before[i].recipient == "ben@example.org" and before[i].status == "failed"][:1]
    sent_reminders = [r for r in reminders(hook_ctx) if r[0] != LATER_SESSION]
    admin = tokens.headers(*ADMIN)
    assert sent_reminders and {status for _, status in sent_reminders} == {"sent"}

    # A day short of a month: everything is kept.
    kept = forget_old_messages(hook_ctx.db, hook_ctx.config, now=written + timedelta(days=29))
    assert kept == Forgotten(contents=0, deliveries=0, reminders=0)

    synced = hclient.get("/deliveries?changed_after=0", headers=admin).json["last_change"]
    month = written + timedelta(days=31)
    assert forget_old_messages(hook_ctx.db, hook_ctx.config, now=month).contents == len(settled)
    changed = hclient.get(f"/deliveries?changed_after={synced}", headers=admin).json["items"]
    assert {d["id"] for d in changed} == settled  # a state system syncing the log hears of it
    after = rows(hook_ctx)
    for i in settled:
        assert after[i].content_deleted_at is not None
        assert (after[i].text_body, after[i].html_body, after[i].invite) == ("", "", None)
        assert after[i].subject == before[i].subject  # who, what and when stay for support
    for i in waiting:
        assert after[i].content_deleted_at is None and after[i].text_body == before[i].text_body

    listed = {d["id"]: d for d in hclient.get("/deliveries", headers=admin).json["items"]}
    assert all(listed[i]["content_deleted_at"] for i in settled)
    assert not any(listed[i]["content_deleted_at"] for i in waiting)
    retryable = hclient.get("/deliveries?status=failed&content_kept=true", headers=admin).json["items"]
    assert retryable == []  # what a page of messages to send again asks for
    deleted = hclient.get("/deliveries?status=failed&content_kept=false", headers=admin).json["items"]
    assert failed in {d["id"] for d in deleted}
    again = hclient.post(f"/deliveries/{failed}/retry", headers=admin)
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert "content was deleted" in again.json["detail"]
    redelivered = hclient.post(
        f"/webhooks/{hook['id']}/redeliver", json={"since": (written - timedelta(minutes=1)).isoformat()}, headers=admin
    )
    assert redelivered.status_code == 202 and redelivered.json == {"queued": 0}  # no payload left to send

    # A month after they were due, the sent reminders go; the later session's wait to be sent.
    assert forget_old_messages(hook_ctx.db, hook_ctx.config, now=starts + timedelta(days=31)).reminders == len(
        sent_reminders
    )
    assert reminders(hook_ctx) and {r for r in reminders(hook_ctx)} == {(LATER_SESSION, "pending")}

    # About a year after it was written (DELIVERY_LOG_RETENTION_DAYS, 400), the row goes too.
    assert forget_old_messages(hook_ctx.db, hook_ctx.config, now=month + timedelta(days=369)).deliveries == 0
    gone = forget_old_messages(hook_ctx.db, hook_ctx.config, now=month + timedelta(days=371))
    assert gone.deliveries == len(settled)
    assert set(rows(hook_ctx)) == waiting  # still to be sent: never touched
    assert {d["id"] for d in hclient.get("/deliveries", headers=admin).json["items"]} == waiting


def test_retention_is_deleted_in_chunks_until_none_is_left(notifications_ctx, deliver):
    for person in ("ana", "ben", "carl", "dora", "eve"):
        add_contact(notifications_ctx, person, f"{person}@example.org")
    deliver.event(
        session_event("scheduled", session_data(next_week(), registrants=("ana", "ben", "carl", "dora", "eve")))
    )
    assert deliver.send() == 5
    month = datetime.now(UTC) + timedelta(days=31)
    forgotten = forget_old_messages(notifications_ctx.db, notifications_ctx.config, now=month, chunk=2)
    assert forgotten.contents == 5
    assert forget_old_messages(notifications_ctx.db, notifications_ctx.config, now=month, chunk=2).contents == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DELIVERY_LOG_RETENTION_DAYS": "20"}, "at least MESSAGE_CONTENT_RETENTION_DAYS"),
        (
            {"DELIVERY_LOG_RETENTION_DAYS": "20", "MESSAGE_CONTENT_RETENTION_DAYS": "5"},
            "at least INBOX_RETENTION_HOURS",
        ),
        ({"MESSAGE_CONTENT_RETENTION_DAYS": "0"}, "MESSAGE_CONTENT_RETENTION_DAYS"),
    ],
)
def test_a_retention_that_would_lose_what_is_needed_stops_the_service_at_start(monkeypatch, env, message):
    from services.notifications.config import NotificationsConfig

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        NotificationsConfig.from_env()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_workers_forgetting_at_once_take_different_messages_and_neither_waits(notifications_ctx, deliver, database):
    import threading

    from services.notifications import repository as repo

    people = ("ana", "ben", "carl", "dora", "eve")
    for person in people:
        add_contact(notifications_ctx, person, f"{person}@example.org")
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=people)))
    assert deliver.send() == 5
    month = datetime.now(UTC) + timedelta(days=31)
    with notifications_ctx.db.unit_of_work() as first:  # one worker, mid-chunk: two rows locked, not committed
        assert repo.delete_old_content(first.session, month - timedelta(days=30), month, 2) == 2
        other = {}
        thread = threading.Thread(
            target=lambda: other.update(
                done=forget_old_messages(notifications_ctx.db, notifications_ctx.config, now=month, chunk=2)
            )
        )
        thread.start()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the second worker waited for the first one's rows"
        assert other["done"].contents == 3  # the three the first does not hold
        first.commit()
    with notifications_ctx.db.session() as session:
        assert session.query(Delivery).filter(Delivery.content_deleted_at.is_(None)).count() == 0


def test_a_community_call_s_reminders_go_a_month_after_they_were_due(notifications_ctx, community, deliver):
    from services.notifications.community_models import CallReminder
    from services.notifications.use_cases.community_notices import CommunityNotices, write_due_call_reminders

    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    community(call_event("scheduled", call_data(starts)))
    notices = CommunityNotices(notifications_ctx.extra["notifier"])
    assert write_due_call_reminders(notifications_ctx.db, notices, now=starts - timedelta(minutes=59)) >= 1
    with notifications_ctx.db.session() as session:
        sent = session.query(CallReminder).filter(CallReminder.status == "sent").count()
    assert sent >= 1
    config = notifications_ctx.config
    assert forget_old_messages(notifications_ctx.db, config, now=starts + timedelta(days=29)).reminders == 0
    assert forget_old_messages(notifications_ctx.db, config, now=starts + timedelta(days=31)).reminders == sent
    with notifications_ctx.db.session() as session:
        assert session.query(CallReminder).filter(CallReminder.status == "sent").count() == 0
