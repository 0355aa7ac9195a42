"""Digests: a person's notifications of one kind over an hour gathered into one e-mail, one line per subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

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
    add_contact(notifications_ctx, "fac-ca", "fac@example.org", name="Fatima Noor")
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
    assert text.startswith("Hello Fatima Noor,\n\n")  # one person's digest greets them
    assert text.count("- Changes requested on your adaptation") == 1 and text.count("- Adaptation approved") == 1
    # Its unsubscribe link turns off the kind the digest gathers, for its reader.
    link = digest["List-Unsubscribe"].strip()[1:-1]
    assert f"Stop e-mails like this one: {link}" in text
    answer = nclient.post(urlsplit(link).path, data="List-Unsubscribe=One-Click")
    assert answer.status_code == 200
    mine = nclient.get("/contact-points/fac-ca/preferences", headers=me).json["items"]
    assert [(p["kind"], p["enabled"]) for p in mine] == [("adaptation_reviewed", False)]


def test_a_kind_with_a_calendar_invite_takes_no_digest(nclient, tokens):
    answer = nclient.put(
        "/contact-points/ana/preferences/session_rescheduled",
        json={"channel": "email", "enabled": True, "digest": "daily"},
        headers=tokens.headers("participant", "CA", sub="ana"),
    )
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"


def _hourly(nclient, tokens, person: str) -> None:
    answer = nclient.put(
        f"/contact-points/{person}/preferences/adaptation_reviewed",
        json={"channel": "email", "enabled": True, "digest": "hourly"},
        headers=tokens.headers("facilitator", "CA", sub=person),
    )
    assert answer.status_code == 200, answer.json


def reviewed_for(facilitator: str, adaptation_id: str):
    event = reviewed(adaptation_id, "approved", 1)
    return make_event(
        event.type,
        source=event.source,
        subject=adaptation_id,
        tenant="CA",
        data={**event.data, "facilitator": facilitator},
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_people_who_share_an_address_read_one_digest_there(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    """Before, the second person's digest took the first's key and failed every run: neither was sent."""
    for person in ("fac-ca", "fac-2"):
        add_contact(notifications_ctx, person, "centre@example.org", name=f"Name of {person}")
        _hourly(nclient, tokens, person)
    deliver.event(reviewed_for("fac-ca", "adapt-1"))
    deliver.event(reviewed_for("fac-2", "adapt-2"))
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    notifier = notifications_ctx.extra["notifier"]
    assert write_due_digests(notifications_ctx.db, notifier, now=later) == 1
    deliver.send()
    [digest] = smtp_server.to("centre@example.org")
    text = digest.get_body(("plain",)).get_content()
    assert text.count("- Adaptation approved") == 2
    assert "Hello" not in text and "Name of" not in text  # two people's digest greets neither of them


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_run_that_reaches_its_limit_leaves_a_window_whole_for_the_next_or_sends_a_big_one_in_parts(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    """Before, a window cut by a run's limit was written again by the next run under the same key, which
    failed every later run: no digest went out any more."""
    for person, address in (("fac-a", "a@example.org"), ("fac-b", "b@example.org"), ("fac-c", "c@example.org")):
        add_contact(notifications_ctx, person, address)
        _hourly(nclient, tokens, person)
    for person, count in (("fac-a", 2), ("fac-b", 3), ("fac-c", 5)):
        for n in range(count):
            deliver.event(reviewed_for(person, f"{person}-{n}"))
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    notifier = notifications_ctx.extra["notifier"]
    runs = []
    while written := write_due_digests(notifications_ctx.db, notifier, now=later, limit=3):
        runs.append(written)
    # a's two and the first of b's: b's window is left whole; c's five are more than a run takes: in parts.
    assert runs == [1, 1, 1, 1]
    deliver.send()

    def lines(address: str) -> list[int]:
        return sorted(
            m.get_body(("plain",)).get_content().count("- Adaptation approved") for m in smtp_server.to(address)
        )

    assert (lines("a@example.org"), lines("b@example.org"), lines("c@example.org")) == ([2], [3], [2, 3])
