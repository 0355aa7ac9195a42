"""Reminders 24 hours and 1 hour before each session: moved on reschedule, dropped on cancel, sent once by several replicas."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from services.notifications.models import Delivery, Reminder
from services.notifications.use_cases.reminders import write_due_reminders
from tests.notifications.conftest import (
    SESSION_ID,
    add_contact,
    next_week,
    registration_event,
    session_data,
    session_event,
)

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


def reminders(ctx) -> list[tuple[str, int, datetime, str]]:
    with ctx.db.session() as session:
        rows = session.scalars(select(Reminder).order_by(Reminder.person, Reminder.minutes_before.desc())).all()
        return [(r.person, r.minutes_before, r.due_at, r.status) for r in rows]


@BOTH
def test_a_reschedule_moves_the_pending_reminders_and_a_cancel_drops_them(notifications_ctx, deliver, database):
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts, registrants=("ana", "ben"))))
    assert reminders(notifications_ctx) == [
        ("ana", 1440, starts - timedelta(hours=24), "pending"),
        ("ana", 60, starts - timedelta(hours=1), "pending"),
        ("ben", 1440, starts - timedelta(hours=24), "pending"),
        ("ben", 60, starts - timedelta(hours=1), "pending"),
    ]
    moved = starts + timedelta(days=2, hours=3)
    # ben cancelled in between: the rescheduled session's registrants no longer include him.
    deliver.event(session_event("rescheduled", session_data(moved, sequence=1, registrants=("ana",))))
    assert reminders(notifications_ctx) == [
        ("ana", 1440, moved - timedelta(hours=24), "pending"),
        ("ana", 60, moved - timedelta(hours=1), "pending"),
        ("ben", 1440, starts - timedelta(hours=24), "dropped"),
        ("ben", 60, starts - timedelta(hours=1), "dropped"),
    ]
    deliver.event(session_event("cancelled", session_data(moved, sequence=2, registrants=("ana",))))
    assert {status for *_, status in reminders(notifications_ctx)} == {"dropped"}
    assert write_due_reminders(notifications_ctx.db, notifications_ctx.extra["notifier"], now=moved) == 0


def test_a_late_registration_gets_reminders_and_a_cancelled_one_loses_them(notifications_ctx, deliver):
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts, registrants=())))
    deliver.event(registration_event("confirmed", "cy", "cy@example.org"))
    assert [(p, m, s) for p, m, _, s in reminders(notifications_ctx)] == [
        ("cy", 1440, "pending"),
        ("cy", 60, "pending"),
    ]
    deliver.event(registration_event("cancelled", "cy", "cy@example.org"))
    assert [s for *_, s in reminders(notifications_ctx)] == ["dropped", "dropped"]


def test_an_older_change_arriving_late_does_not_move_anything(notifications_ctx, deliver):
    starts = next_week()
    deliver.event(session_event("rescheduled", session_data(starts + timedelta(days=1), sequence=2)))
    deliver.event(session_event("scheduled", session_data(starts, sequence=0)))
    assert {due for _, _, due, _ in reminders(notifications_ctx)} == {
        starts + timedelta(days=1) - timedelta(hours=24),
        starts + timedelta(days=1) - timedelta(hours=1),
    }


def test_a_due_reminder_reaches_the_registrant_through_smtp(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts)))
    deliver.send()
    notifier = notifications_ctx.extra["notifier"]
    assert write_due_reminders(notifications_ctx.db, notifier, now=starts - timedelta(hours=25)) == 0
    assert write_due_reminders(notifications_ctx.db, notifier, now=starts - timedelta(hours=23)) == 1
    deliver.send()
    _, reminder = smtp_server.to("ana@example.org")
    assert reminder["Subject"] == "Mañana: Session 1: Relationship-based care"
    assert "empieza en 24 horas" in reminder.get_body(("plain",)).get_content()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_several_replicas_write_and_send_each_reminder_once(notifications_ctx, deliver, smtp_server, database):
    people = [f"p{i:03d}" for i in range(60)]
    for person in people:
        add_contact(notifications_ctx, person, f"{person}@example.org")
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts, registrants=people)))
    deliver.send()
    smtp_server.messages.clear()
    notifier, barrier = notifications_ctx.extra["notifier"], threading.Barrier(4)
    errors = []

    def replica():
        try:
            barrier.wait()
            write_due_reminders(notifications_ctx.db, notifier, now=starts - timedelta(minutes=30), limit=7)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    def sender():
        from services.notifications.mail import SmtpMailer
        from services.notifications.use_cases.sending import send_pending

        mailer = SmtpMailer(notifications_ctx.config)
        barrier.wait()
        while send_pending(notifications_ctx.db, notifications_ctx.config, mailer, limit=9):
            pass
        mailer.close()

    senders = [threading.Thread(target=sender) for _ in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"{p}@example.org" for p in people for _ in (1, 2))
    with notifications_ctx.db.session() as session:
        assert session.query(Delivery).filter(Delivery.template == "session_reminder").count() == 120
        assert {r.status for r in session.scalars(select(Reminder).where(Reminder.session_id == SESSION_ID))} == {
            "sent"
        }
