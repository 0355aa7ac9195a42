"""E-mail through a real SMTP server (aiosmtpd): content, language, time zone, and invites calendars accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import vobject

from tests.notifications.conftest import (
    SESSION_ID,
    add_contact,
    copy_supervisors_of_invitations,
    next_week,
    registration_event,
    session_data,
    session_event,
)

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)


def invite_of(message):
    """The message's calendar invite, read by an independent iCalendar parser (vobject)."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    return vobject.readOne(part.get_content())


@BOTH
def test_a_scheduled_session_reaches_each_registrant_in_their_language_and_zone_with_an_invite(
    notifications_ctx, deliver, smtp_server, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es", time_zone="America/Chicago")
    add_contact(notifications_ctx, "fac-ca", "fac@example.org")
    starts = next_week()  # 17:00 UTC: 11:00 or 12:00 in Chicago, 9:00 or 10:00 in Los Angeles
    deliver.event(session_event("scheduled", session_data(starts)))
    assert deliver.send() == 2

    [message] = smtp_server.to("ana@example.org")
    assert message["Subject"] == "Invitación: Session 1: Relationship-based care"
    assert message["Content-Language"] == "es"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    chicago = starts.astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago"))
    la = starts.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))
    assert f"{chicago:%H:%M}" in text and chicago.tzname() in text  # the person's zone, 24-hour in Spanish
    assert f"{la:%H:%M}" in text and la.tzname() in text  # and the session's, as it differs
    assert "Sacramento Training Center, Room 2, 1 Capitol Mall" in text
    assert "https://meet.example.org/session-1" in html and '<html lang="es">' in html
    cal = invite_of(message)
    assert cal.method.value == "REQUEST"
    assert cal.vevent.uid.value == f"{SESSION_ID}@t4t-platform"
    assert cal.vevent.sequence.value == "0"
    assert cal.vevent.dtstart.value == starts
    assert cal.vevent.attendee.value == "mailto:ana@example.org"

    [facilitator] = smtp_server.to("fac@example.org")
    assert facilitator["Subject"] == "You're invited: Session 1: Relationship-based care"
    facilitator_text = facilitator.get_body(("plain",)).get_content()
    assert f"{la.hour % 12 or 12}:00 {'AM' if la.hour < 12 else 'PM'} – " in facilitator_text
    assert la.tzname() in facilitator_text and "(where it is held)" not in facilitator_text  # one zone only


@BOTH
def test_a_reschedule_and_a_cancel_update_the_same_calendar_entry(notifications_ctx, deliver, smtp_server, database):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts)))
    moved = starts + timedelta(days=1)
    deliver.event(
        session_event(
            "rescheduled",
            session_data(moved, sequence=1, reason="Room flooded", previous_starts_at=starts.isoformat()),
        )
    )
    deliver.event(session_event("cancelled", session_data(moved, sequence=2, reason="Trainer ill")))
    deliver.send()

    scheduled, rescheduled, cancelled = smtp_server.to("ana@example.org")
    assert rescheduled["Subject"].startswith("Moved:")
    assert "Room flooded" in rescheduled.get_body(("plain",)).get_content()
    assert "Was:" in rescheduled.get_body(("plain",)).get_content()
    assert cancelled["Subject"].startswith("Cancelled:")
    invites = [invite_of(m) for m in (scheduled, rescheduled, cancelled)]
    assert [c.method.value for c in invites] == ["REQUEST", "REQUEST", "CANCEL"]
    assert {c.vevent.uid.value for c in invites} == {f"{SESSION_ID}@t4t-platform"}
    assert [int(c.vevent.sequence.value) for c in invites] == [0, 1, 2]
    assert invites[1].vevent.dtstart.value == moved
    assert invites[2].vevent.status.value == "CANCELLED"


@BOTH
def test_the_same_event_delivered_twice_sends_one_email(notifications_ctx, deliver, smtp_server, database):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    event = session_event("scheduled", session_data(next_week()))
    assert deliver.event(event) == "handled"
    assert deliver.event(event) == "duplicate"
    deliver.send()
    deliver.send()
    assert len(smtp_server.to("ana@example.org")) == 1


def test_a_registration_keeps_the_email_it_carries_and_invites_to_the_known_sessions(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=())))
    deliver.event(registration_event("confirmed", "ben", "ben@example.org"))
    deliver.send()
    [message] = smtp_server.to("ben@example.org")
    assert message["Subject"] == "You're registered: your training cohort"
    cal = invite_of(message)
    assert cal.method.value == "REQUEST" and cal.vevent.uid.value == f"{SESSION_ID}@t4t-platform"
    shown = nclient.get("/contact-points/ben", headers=tokens.headers("jurisdiction_admin", "CA"))
    assert shown.status_code == 200 and shown.json["email"] == "ben@example.org"

    deliver.event(registration_event("cancelled", "ben", "ben@example.org"))
    deliver.send()
    _, cancelled = smtp_server.to("ben@example.org")
    assert cancelled["Subject"] == "Registration cancelled: your training cohort"
    assert invite_of(cancelled).method.value == "CANCEL"


def test_a_waitlisted_participant_hears_their_place_without_an_invite(notifications_ctx, deliver, smtp_server):
    deliver.event(registration_event("waitlisted", "cy", "cy@example.org", waitlist_position=3))
    deliver.send()
    [message] = smtp_server.to("cy@example.org")
    assert "at position 3" in message.get_body(("plain",)).get_content()
    assert list(message.iter_attachments()) == []


def test_an_opt_out_is_kept_except_for_a_change_within_48_hours(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    headers = tokens.headers("participant", "CA", sub="ana")
    for kind in ("session_rescheduled", "session_cancelled"):
        answer = nclient.put(
            f"/contact-points/ana/preferences/{kind}", json={"channel": "email", "enabled": False}, headers=headers
        )
        assert answer.status_code == 200, answer.json
    far = next_week()
    deliver.event(session_event("rescheduled", session_data(far, sequence=1)))
    deliver.send()
    assert smtp_server.to("ana@example.org") == []  # a move a week ahead: her choice holds

    soon = datetime.now(UTC) + timedelta(hours=20)
    deliver.event(session_event("cancelled", session_data(soon, sequence=2)))
    deliver.send()
    [message] = smtp_server.to("ana@example.org")  # cancelled within 48 hours: critical, sent anyway
    assert message["Subject"].startswith("Cancelled:")
    # Every e-mail says where its reader chooses what they receive (their own page, not a coordinator).
    assert "under “My e-mails” in the program's portal" in " ".join(message.get_body(("plain",)).get_content().split())


def test_a_jurisdiction_that_asks_for_it_copies_the_supervisor(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    add_contact(notifications_ctx, "ana", "ana@example.org", supervisor="lead@example.org")
    copy_supervisors_of_invitations(nclient, tokens)
    deliver.event(session_event("scheduled", session_data(next_week())))
    deliver.send()
    [copy] = smtp_server.to("lead@example.org")
    assert "A copy for you as supervisor of ana@example.org." in copy.get_body(("plain",)).get_content()
    assert len(smtp_server.to("ana@example.org")) == 1


@BOTH
def test_people_sharing_an_address_or_a_supervisor_get_one_message_and_the_session_change_goes_through(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    """A family's or a centre's shared address, and a centre director supervising several of a cohort: one
    message each, one copy naming everyone it is for; before, the duplicate failed the whole event."""
    add_contact(notifications_ctx, "ana", "family@example.org", supervisor="lead@example.org")
    add_contact(notifications_ctx, "ben", "family@example.org", supervisor="lead@example.org")
    add_contact(notifications_ctx, "cy", "cy@example.org", supervisor="lead@example.org")
    add_contact(notifications_ctx, "dee", "lead@example.org")  # the director takes the training too
    copy_supervisors_of_invitations(nclient, tokens)
    registrants = ("ana", "ben", "cy", "dee")
    assert deliver.event(session_event("scheduled", session_data(next_week(), registrants=registrants))) == "handled"
    deliver.send()

    [family] = smtp_server.to("family@example.org")
    assert family["Subject"].startswith("You're invited")
    assert len(smtp_server.to("cy@example.org")) == 1
    # The director's own invitation (with its invite), not a copy: one message per address and event.
    [director] = smtp_server.to("lead@example.org")
    assert "A copy for you" not in director.get_body(("plain",)).get_content()
    assert any(part.get_content_type() == "text/calendar" for part in director.iter_attachments())


def test_a_supervisor_of_several_gets_one_copy_naming_each(notifications_ctx, deliver, smtp_server, nclient, tokens):
    add_contact(notifications_ctx, "ana", "ana@example.org", supervisor="lead@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org", supervisor="lead@example.org")
    copy_supervisors_of_invitations(nclient, tokens)
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=("ana", "ben"))))
    deliver.send()
    [copy] = smtp_server.to("lead@example.org")
    text = " ".join(copy.get_body(("plain",)).get_content().split())
    assert "A copy for you as supervisor of ana@example.org, ben@example.org." in text


@BOTH
def test_each_reader_is_greeted_by_name_and_a_supervisors_copy_names_nobody(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(
        notifications_ctx, "ana", "ana@example.org", language="es", name="Ana López", supervisor="lead@example.org"
    )
    add_contact(notifications_ctx, "ben", "ben@example.org")  # no name known
    copy_supervisors_of_invitations(nclient, tokens)
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=("ana", "ben"))))
    deliver.event(registration_event("confirmed", "cy", "cy@example.org", participant_name="Cy  Ortiz"))
    deliver.send()

    [ana] = smtp_server.to("ana@example.org")
    text, html = ana.get_body(("plain",)).get_content(), ana.get_body(("html",)).get_content()
    assert text.startswith("Hola, Ana López:\n\n") and ">Hola, Ana López:</p>" in html
    [ben] = smtp_server.to("ben@example.org")
    text, html = ben.get_body(("plain",)).get_content(), ben.get_body(("html",)).get_content()
    assert (
        text.startswith("A session of your training has been scheduled.")
        and "Hello" not in text
        and "Hello" not in html
    )
    [copy] = smtp_server.to("lead@example.org")
    text = copy.get_body(("plain",)).get_content()
    assert "Hola" not in text and "Hello" not in text and "Ana López" not in text
    [cy] = smtp_server.to("cy@example.org")  # the name the registration carries, as registered
    assert cy.get_body(("plain",)).get_content().startswith("Hello Cy Ortiz,\n\n")


def test_a_send_the_sender_never_recorded_goes_again_with_the_same_message_id(notifications_ctx, deliver, smtp_server):
    from services.notifications import metrics
    from services.notifications.mail import SmtpMailer
    from services.notifications.models import Delivery
    from services.notifications.use_cases.sending import claim

    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(session_event("scheduled", session_data(next_week())))
    # A sender claims the message and hands it to the server, then dies before recording it.
    [item] = claim(notifications_ctx.db, notifications_ctx.config)
    crashed = SmtpMailer(notifications_ctx.config)
    crashed.send(item["message"])
    crashed.close()
    assert deliver.send() == 0  # within the lease: nobody sends it again yet
    before = metrics.AMBIGUOUS.labels("email")._value.get()
    later = datetime.now(UTC) + timedelta(seconds=notifications_ctx.config.send_lease_seconds + 1)
    assert deliver.send(now=later) == 1
    first, second = smtp_server.to("ana@example.org")
    assert first["Message-ID"] == second["Message-ID"]  # the receiver can tell it is the same message
    assert metrics.AMBIGUOUS.labels("email")._value.get() == before + 1
    with notifications_ctx.db.session() as session:
        [row] = session.query(Delivery).all()
        assert (row.status, row.ambiguous_sends) == ("sent", 1)


def test_a_refused_message_fails_and_is_retried_on_request(notifications_ctx, deliver, smtp_server, nclient, tokens):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(session_event("scheduled", session_data(next_week())))
    smtp_server.refuse = 554
    assert deliver.send() == 0
    headers = tokens.headers("jurisdiction_admin", "CA")
    [failed] = nclient.get("/deliveries?status=failed", headers=headers).json["items"]
    assert failed["last_error"].startswith("554")
    smtp_server.refuse = None
    retried = nclient.post(f"/deliveries/{failed['id']}/retry", headers=headers)
    assert retried.status_code == 200 and retried.json["status"] == "pending"
    assert deliver.send() == 1
    [message] = smtp_server.to("ana@example.org")
    assert message["Message-ID"] == failed["message_id"]
    again = nclient.post(f"/deliveries/{failed['id']}/retry", headers=headers)
    assert again.status_code == 409 and again.content_type == "application/problem+json"


@BOTH
def test_support_finds_the_messages_of_one_address_however_it_is_typed(
    notifications_ctx, deliver, nclient, tokens, database
):
    add_contact(notifications_ctx, "ana", "Ana.Lopez@example.org")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    add_contact(notifications_ctx, "tx-ana", "ana.lopez@example.org", tenant="TX")
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=("ana", "ben"))))
    deliver.event(session_event("scheduled", session_data(next_week(), registrants=("tx-ana",)), tenant="TX"))
    coordinator = tokens.headers("agency_coordinator", "CA")

    found = nclient.get("/deliveries", query_string={"recipient": " ana.lopez@EXAMPLE.org "}, headers=coordinator)
    assert found.status_code == 200
    assert [(d["recipient"], d["template"]) for d in found.json["items"]] == [
        ("Ana.Lopez@example.org", "session_scheduled")  # California's only: Texas's Ana is not theirs
    ]
    assert nclient.get("/deliveries?recipient=nobody@example.org", headers=coordinator).json["items"] == []
    refused = nclient.get("/deliveries?recipient=", headers=coordinator)
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    participant = tokens.headers("participant", "CA", sub="ana")
    assert nclient.get("/deliveries?recipient=ben@example.org", headers=participant).status_code == 403
