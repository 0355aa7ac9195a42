"""Digests: a person's notifications of one kind over an hour gathered into one e-mail, one line per subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.use_cases.digests import write_due_digests
from shared.envelope import make_event
from tests.notifications.conftest import add_contact


def reviewed(adaptation_id: str, decision: str, revision: int):
    data = {
        "adaptation_id": adaptation_id,
        "module_id": "module-1",
        "facilitator": "fac-ca",
        "reviewer": "spec-ca",
        "revision": revision,
        "decision": decision,
        "comments": "See the notes on the second activity.",
    }
    return make_event(
        "content.adaptation.reviewed", source="/services/content", subject=adaptation_id, tenant="CA", data=data
    )


def test_notices_about_one_thing_make_one_line_of_one_hourly_digest(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    add_contact(notifications_ctx, "fac-ca", "fac@example.org")
    me = tokens.headers("facilitator", "CA", sub="fac-ca")
    answer = nclient.put(
        "/contact-points/fac-ca/preferences/adaptation_reviewed",
        json={"channel": "email", "enabled": True, "digest": "hourly"},
        headers=me,
    )
    assert answer.status_code == 200 and answer.json["digest"] == "hourly"
    for revision in (1, 2, 3):  # three reviews of one adaptation
        deliver.event(reviewed("adapt-1", "changes_requested", revision))
    deliver.event(reviewed("adapt-2", "approved", 1))
    deliver.send()
    assert smtp_server.to("fac@example.org") == []  # held until the hour ends

    notifier = notifications_ctx.extra["notifier"]
    assert write_due_digests(notifications_ctx.db, notifier) == 0  # the window is still open
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert write_due_digests(notifications_ctx.db, notifier, now=later) == 1
    assert write_due_digests(notifications_ctx.db, notifier, now=later) == 0  # once
    deliver.send()
    [digest] = smtp_server.to("fac@example.org")
    assert digest["Subject"] == "Your digest: 2 updates"
    text = digest.get_body(("plain",)).get_content()
    assert "(4 notices about 2 subjects)" in text
    assert text.count("- Changes requested on your adaptation") == 1 and text.count("- Adaptation approved") == 1


def test_a_kind_with_a_calendar_invite_takes_no_digest(nclient, tokens):
    answer = nclient.put(
        "/contact-points/ana/preferences/session_rescheduled",
        json={"channel": "email", "enabled": True, "digest": "daily"},
        headers=tokens.headers("participant", "CA", sub="ana"),
    )
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
