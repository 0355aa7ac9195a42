"""With the portal's address known, each e-mail links to the page its reader acts on (real SMTP server)."""

from __future__ import annotations

import dataclasses

import pytest

from services.notifications.use_cases.notify import Notifier
from tests.notifications.conftest import (
    Deliver,
    add_contact,
    copy_supervisors_of_invitations,
    next_week,
    session_data,
    session_event,
)
from tests.notifications.test_coaching_notices import commitment_event

PORTAL = "https://portal.example.org"


@pytest.fixture
def linked(notifications_ctx):
    """Deliveries by a notifier that knows the portal's address."""
    config = dataclasses.replace(notifications_ctx.config, portal_url=PORTAL)
    notifications_ctx.extra["notifier"] = Notifier(config)
    return Deliver(notifications_ctx)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def test_a_session_change_links_a_participant_to_my_training_and_a_facilitator_to_my_sessions(
    notifications_ctx, linked, smtp_server
):
    add_contact(notifications_ctx, "ana", "ana@example.org", language="es")
    add_contact(notifications_ctx, "fac-ca", "fac@example.org")
    linked.event(session_event("scheduled", session_data(next_week())))
    linked.send()

    [to_ana] = smtp_server.to("ana@example.org")
    assert f"Ver su formación: {PORTAL}/my/training\n" in text_of(to_ana)
    assert f'<a href="{PORTAL}/my/training"' in html_of(to_ana) and ">Ver su formación</a>" in html_of(to_ana)
    [to_facilitator] = smtp_server.to("fac@example.org")
    assert f"See your sessions: {PORTAL}/my/sessions\n" in text_of(to_facilitator)
    assert "/my/training" not in text_of(to_facilitator)


def test_a_commitment_overdue_links_the_trainer_to_their_commitment_and_the_specialist_to_the_trainer(
    notifications_ctx, linked, smtp_server
):
    add_contact(notifications_ctx, "auth0|ana", "ana@example.org")  # a user id as an identity provider spells it
    add_contact(notifications_ctx, "sam", "sam@example.org")
    linked.event(commitment_event("overdue", trainer="auth0|ana"))
    linked.send()

    [to_ana] = smtp_server.to("ana@example.org")
    assert f"See your commitment: {PORTAL}/my/commitment\n" in text_of(to_ana)
    [to_sam] = smtp_server.to("sam@example.org")
    assert f"See the trainer's plan: {PORTAL}/coach/trainers/auth0%7Cana\n" in text_of(to_sam)
    assert f'<a href="{PORTAL}/coach/trainers/auth0%7Cana"' in html_of(to_sam)


def test_a_supervisors_copy_does_not_link_to_the_persons_own_pages(
    notifications_ctx, linked, smtp_server, nclient, tokens
):
    add_contact(notifications_ctx, "ana", "ana@example.org", supervisor="lead@example.org")
    copy_supervisors_of_invitations(nclient, tokens)
    linked.event(session_event("scheduled", session_data(next_week())))
    linked.send()
    [copy] = smtp_server.to("lead@example.org")
    assert "/my/training" not in text_of(copy) and "/my/training" not in html_of(copy)
    [own] = smtp_server.to("ana@example.org")
    assert f"{PORTAL}/my/training" in text_of(own)


def test_without_the_portals_address_no_page_is_linked(notifications_ctx, deliver, smtp_server):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    deliver.event(session_event("scheduled", session_data(next_week())))
    deliver.send()
    [message] = smtp_server.to("ana@example.org")
    assert "See your training" not in text_of(message) and "See your training" not in html_of(message)
