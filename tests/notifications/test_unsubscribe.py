"""One-click unsubscribe (RFC 8058): the link each e-mail a person may turn off carries, and what it does."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.notifications.conftest import (
    UNSUBSCRIBE_SECRET,
    add_contact,
    copy_supervisors_of_invitations,
    next_week,
    registration_event,
    session_data,
    session_event,
)

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
ONE_CLICK = {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}


def link_of(message) -> str:
    """The path of the message's one-click unsubscribe link (the test client takes paths)."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"].strip()  # a long header is folded onto its next line
    assert header.startswith("<") and header.endswith(">")
    return urlsplit(header[1:-1]).path


def choices(ctx) -> list[tuple]:
    from sqlalchemy import select

    from services.notifications.models import PersonPreference

    with ctx.db.session() as session:
        rows = session.scalars(select(PersonPreference).order_by(PersonPreference.person, PersonPreference.kind))
        return [(r.tenant, r.person, r.kind, r.channel, r.enabled) for r in rows]


@BOTH
def test_a_mail_providers_unsubscribe_button_turns_that_kind_off_for_that_person_only(
    notifications_ctx, deliver, smtp_server, nclient, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    deliver.event(registration_event("confirmed", "ana", "ana@example.org"))
    deliver.send()
    [confirmed] = smtp_server.to("ana@example.org")
    link = link_of(confirmed)
    url = confirmed["List-Unsubscribe"].strip()[1:-1]
    assert url.startswith(f"{notifications_ctx.config.public_base_url}/unsubscribe/")
    # The same link in the message itself, for a reader whose mail client shows no button.
    assert f"Dejar de recibir correos como este: {url}" in confirmed.get_body(("plain",)).get_content()
    assert f'<a href="{url}" style="color:#2f6f5e;">Dejar de recibir correos como este</a>' in (
        confirmed.get_body(("html",)).get_content()
    )

    # Opened in a browser (or by a mail scanner): a page that asks, in her language; nothing changes.
    asked = nclient.get(link)
    assert asked.status_code == 200 and asked.mimetype == "text/html"
    page = asked.get_data(as_text=True)
    assert '<html lang="es">' in page and "¿Dejar de recibir estos correos?" in page
    assert "sobre <strong>una inscripción confirmada</strong>" in page and '<form method="post">' in page
    assert asked.headers["Cache-Control"] == "no-store" and asked.headers["Referrer-Policy"] == "no-referrer"
    assert choices(notifications_ctx) == []

    # The provider's button: one POST, no sign-in.
    done = nclient.post(link, **ONE_CLICK)
    assert done.status_code == 200 and done.mimetype == "text/html"
    assert "No recibirá más correos de este tipo" in done.get_data(as_text=True)
    assert choices(notifications_ctx) == [("CA", "ana", "registration_confirmed", "email", False)]
    assert nclient.post(link, **ONE_CLICK).status_code == 200  # again: nothing more changes
    assert choices(notifications_ctx) == [("CA", "ana", "registration_confirmed", "email", False)]

    # Her next confirmation is not sent; Ben's is, and other kinds still reach her.
    deliver.event(registration_event("confirmed", "ana", "ana@example.org", registration_id="reg-ana-2"))
    deliver.event(registration_event("confirmed", "ben", "ben@example.org"))
    deliver.event(registration_event("waitlisted", "ana", "ana@example.org", registration_id="reg-ana-3"))
    deliver.send()
    subjects = [m["Subject"] for m in smtp_server.to("ana@example.org")]
    assert len(subjects) == 2 and "lista de espera" in subjects[1]
    assert len(smtp_server.to("ben@example.org")) == 1


@BOTH
def test_unsubscribed_from_cancellations_a_person_still_hears_of_one_within_48_hours(
    notifications_ctx, deliver, smtp_server, nclient, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    far = session_data(next_week(), sequence=1)
    deliver.event(session_event("cancelled", far))
    deliver.send()
    [cancelled] = smtp_server.to("ana@example.org")
    assert nclient.post(link_of(cancelled), **ONE_CLICK).status_code == 200

    later = session_data(next_week() + timedelta(days=7), sequence=1, session_id="5b0f5d3e-0000-4000-8000-000000000002")
    deliver.event(session_event("cancelled", later))  # not critical: not sent
    soon = session_data(
        datetime.now(UTC) + timedelta(hours=20), sequence=1, session_id="5b0f5d3e-0000-4000-8000-000000000003"
    )
    deliver.event(session_event("cancelled", soon))  # within 48 hours: sent whatever she chose
    deliver.send()
    assert len(smtp_server.to("ana@example.org")) == 2


@BOTH
def test_a_link_changed_cut_short_made_up_or_signed_by_another_secret_is_404_and_changes_nothing(
    notifications_ctx, deliver, smtp_server, nclient, database
):
    from services.notifications.domain.unsubscribe import Unsubscription, token_for

    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(registration_event("confirmed", "ana", "ana@example.org"))
    deliver.send()
    [message] = smtp_server.to("ana@example.org")
    good = link_of(message).rsplit("/", 1)[1]
    payload, mac = good.split(".")
    ben = token_for(UNSUBSCRIBE_SECRET, Unsubscription("CA", "ben", "registration_confirmed"))
    bad = [
        f"{ben.split('.')[0]}.{mac}",  # another person's, with Ana's signature
        f"{payload}.{mac[:-2]}",  # cut short
        payload,
        f"{payload}.{mac}.{mac}",
        token_for("another-secret-of-more-than-32-characters", Unsubscription("CA", "ana", "registration_confirmed")),
        token_for(UNSUBSCRIBE_SECRET, Unsubscription("CA", "ana", "no_such_kind")),  # ours, but no kind we send
        "%C3%A9t%C3%A9.%C3%A9",
        ".",
    ]
    for token in bad:
        for answer in (nclient.get(f"/unsubscribe/{token}"), nclient.post(f"/unsubscribe/{token}", **ONE_CLICK)):
            assert answer.status_code == 404, (token, answer.status_code)
            assert answer.mimetype == "application/problem+json"
    assert choices(notifications_ctx) == []


def test_a_supervisors_copy_and_a_service_without_a_secret_carry_no_unsubscribe_link(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    from services.notifications.mail import SmtpMailer
    from services.notifications.use_cases.sending import send_pending

    add_contact(notifications_ctx, "ana", "ana@example.org", supervisor="lead@example.org")
    copy_supervisors_of_invitations(nclient, tokens)
    deliver.event(session_event("scheduled", session_data(next_week())))
    deliver.send()
    [copy] = smtp_server.to("lead@example.org")
    assert copy["List-Unsubscribe"] is None  # the copy is the jurisdiction's choice, not the supervisor's to undo
    assert "Stop e-mails like this one" not in copy.get_body(("plain",)).get_content()
    [own] = smtp_server.to("ana@example.org")
    assert link_of(own)
    assert (
        f"Stop e-mails like this one: {own['List-Unsubscribe'].strip()[1:-1]}" in own.get_body(("plain",)).get_content()
    )

    # Without a secret, no link is made, and the API takes none.
    unsigned = dataclasses.replace(notifications_ctx.config, unsubscribe_secret="")
    deliver.event(registration_event("confirmed", "ana", "ana@example.org"))
    mailer = SmtpMailer(unsigned)
    assert send_pending(notifications_ctx.db, unsigned, mailer) == 1
    mailer.close()
    [confirmed] = [m for m in smtp_server.to("ana@example.org") if m["Subject"] != own["Subject"]]
    assert confirmed["List-Unsubscribe"] is None and confirmed["List-Unsubscribe-Post"] is None
