"""Registration e-mails name the cohort from the event (English and Spanish); older events without it still work."""

from __future__ import annotations

import pytest

from tests.notifications.conftest import add_contact, registration_event

TITLE = "Relationship-Based Care, Fresno spring cohort"


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_registration_emails_name_the_cohort_in_each_language(notifications_ctx, deliver, smtp_server, database):
    add_contact(notifications_ctx, "eva", "eva@example.org", language="es")
    deliver.event(registration_event("confirmed", "ana", "ana@example.org", cohort_title=TITLE))
    deliver.event(registration_event("waitlisted", "eva", "eva@example.org", cohort_title=TITLE, waitlist_position=2))
    deliver.send()
    [english] = smtp_server.to("ana@example.org")
    [spanish] = smtp_server.to("eva@example.org")
    assert english["Subject"] == f"You're registered: {TITLE}"
    assert spanish["Subject"].endswith(f": {TITLE}") and "your training cohort" not in spanish["Subject"]
    for message in (english, spanish):
        assert TITLE in message.get_body(("plain",)).get_content()
        assert TITLE in message.get_body(("html",)).get_content()


def test_an_event_published_before_cohorts_were_named_still_makes_its_email(notifications_ctx, deliver, smtp_server):
    deliver.event(registration_event("confirmed", "ben", "ben@example.org"))  # no cohort_title, as older events
    deliver.send()
    [message] = smtp_server.to("ben@example.org")
    assert message["Subject"] == "You're registered: your training cohort"
