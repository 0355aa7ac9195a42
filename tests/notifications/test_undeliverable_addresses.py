"""Addresses a real SMTP server (aiosmtpd) refuses for good are set aside, shown to admins, and cleared."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.notifications.conftest import add_contact, next_week, session_data, session_event

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
UNKNOWN_USER = "550 5.1.1 <ana@exmaple.org>: Recipient address rejected: User unknown"
TX_SESSION = "5b0f5d3e-0000-4000-8000-0000000000aa"


def moved(starts, sequence: int, registrants=("ana",)):
    """The same session, moved ``sequence`` days later than ``starts`` (its SEQUENCE ``sequence``)."""
    data = session_data(
        starts + timedelta(days=sequence),
        sequence=sequence,
        previous_starts_at=starts.isoformat(),
        registrants=registrants,
    )
    return session_event("rescheduled", data)


@BOTH
def test_an_address_refused_for_good_is_set_aside_shown_with_its_people_and_cleared(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(notifications_ctx, "ana", "ana@exmaple.org", name="Ana López")  # a roster's typo
    add_contact(notifications_ctx, "ana-2", "Ana@Exmaple.org")  # the same mailbox, typed otherwise; no name known
    add_contact(notifications_ctx, "ben", "ben@example.org", supervisor="ANA@exmaple.org", name="Ben Ortiz")
    add_contact(notifications_ctx, "tx-ana", "ana@exmaple.org", tenant="TX")
    smtp_server.refuse_recipients["ana@exmaple.org"] = UNKNOWN_USER
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts, registrants=("ana", "ben"))))
    assert deliver.send() == 1  # Ben's; Ana's refused
    assert smtp_server.rcpt_tos.count("ana@exmaple.org") == 1
    admin = tokens.headers("jurisdiction_admin", "CA")

    [refused] = nclient.get("/deliveries?status=failed", headers=admin).json["items"]
    assert refused["recipient"] == "ana@exmaple.org" and UNKNOWN_USER in refused["last_error"]
    listed = nclient.get("/undeliverable-addresses", headers=admin)
    assert listed.status_code == 200
    [entry] = listed.json["items"]
    assert entry["address"] == "ana@exmaple.org"
    assert entry["people"] == [{"person": "ana", "name": "Ana López"}, {"person": "ana-2", "name": None}]
    # Whose records name it as their supervisor's.
    assert entry["supervisor_of"] == [{"person": "ben", "name": "Ben Ortiz"}]
    assert entry["reply"] == UNKNOWN_USER and entry["message_id"] == refused["message_id"]
    assert entry["cleared_at"] is None and entry["cleared_by"] is None
    one = nclient.get("/undeliverable-addresses", query_string={"address": " ANA@exmaple.org"}, headers=admin)
    assert one.json["items"] == [entry]
    assert nclient.get("/undeliverable-addresses?address=ben@example.org", headers=admin).json["items"] == []

    # The session moves: Ben hears of it, and nothing more is offered to the refused address.
    deliver.event(moved(starts, 1, ("ana", "ben")))
    assert deliver.send() == 1
    assert smtp_server.rcpt_tos.count("ana@exmaple.org") == 1
    assert len(smtp_server.to("ben@example.org")) == 2
    not_sent = nclient.get(
        "/deliveries", query_string={"status": "failed", "template": "session_rescheduled"}, headers=admin
    )
    [held_back] = not_sent.json["items"]
    assert held_back["attempts"] == 0
    assert held_back["last_error"].startswith("not sent: ana@exmaple.org was refused by its mail server on ")
    assert UNKNOWN_USER in held_back["last_error"] and "/undeliverable-addresses" in held_back["last_error"]

    # Texas has a person with the same address: its messages are still offered, and its list is its own.
    tx_admin = tokens.headers("jurisdiction_admin", "TX")
    assert nclient.get("/undeliverable-addresses", headers=tx_admin).json["items"] == []
    assert nclient.post("/undeliverable-addresses/ana@exmaple.org/clear", headers=tx_admin).status_code == 404
    tx_session = session_data(starts, registrants=("tx-ana",))
    tx_session["session_id"] = TX_SESSION
    deliver.event(session_event("scheduled", tx_session, tenant="TX"))
    deliver.send()
    assert smtp_server.rcpt_tos.count("ana@exmaple.org") == 2
    [tx_entry] = nclient.get("/undeliverable-addresses", headers=tx_admin).json["items"]
    assert tx_entry["people"] == [{"person": "tx-ana", "name": None}]

    # California mends Ana's record and clears the address (however it is typed): the mailbox now works.
    mended = nclient.put("/contact-points/ana", json={"email": "ana@example.org", "language": "en"}, headers=admin)
    assert mended.status_code == 200
    participant = tokens.headers("participant", "CA", sub="ana-2")
    assert nclient.post("/undeliverable-addresses/ana@exmaple.org/clear", headers=participant).status_code == 403
    assert nclient.get("/undeliverable-addresses", headers=participant).status_code == 403
    del smtp_server.refuse_recipients["ana@exmaple.org"]
    cleared = nclient.post("/undeliverable-addresses/ANA@Exmaple.org/clear", headers=admin)
    assert cleared.status_code == 200
    assert [p["person"] for p in cleared.json["people"]] == ["ana-2"]  # Ana's no longer
    assert [p["person"] for p in cleared.json["supervisor_of"]] == ["ben"]
    assert cleared.json["cleared_at"] is not None
    assert cleared.json["cleared_by"] == "jurisdiction_admin-ca"
    assert nclient.get("/undeliverable-addresses?cleared=false", headers=admin).json["items"] == []
    assert [
        e["address"] for e in nclient.get("/undeliverable-addresses?cleared=true", headers=admin).json["items"]
    ] == ["ana@exmaple.org"]
    deliver.event(moved(starts, 2, ("ana", "ana-2")))
    deliver.send()
    assert [m["Subject"][:6] for m in smtp_server.to("ana@example.org")] == ["Moved:"]  # the mended address
    assert len(smtp_server.to("Ana@Exmaple.org")) == 1  # Ana-2's, to the cleared address
    unknown = nclient.post("/undeliverable-addresses/nobody@example.org/clear", headers=admin)
    assert unknown.status_code == 404 and unknown.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.1 Message rejected as spam",  # the message's content or sender, not the mailbox
        "554 5.7.1 Relay access denied",
        "552 5.3.4 Message too big",
    ],
)
def test_a_refusal_that_is_not_about_the_address_fails_that_message_only(
    notifications_ctx, deliver, smtp_server, nclient, tokens, reply
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    smtp_server.refuse_recipients["ana@example.org"] = reply
    starts = next_week()
    deliver.event(session_event("scheduled", session_data(starts)))
    assert deliver.send() == 0
    admin = tokens.headers("jurisdiction_admin", "CA")
    [failed] = nclient.get("/deliveries?status=failed", headers=admin).json["items"]
    assert reply in failed["last_error"]
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == []
    del smtp_server.refuse_recipients["ana@example.org"]
    deliver.event(moved(starts, 1))
    assert deliver.send() == 1
    assert smtp_server.rcpt_tos.count("ana@example.org") == 2


def test_a_temporary_refusal_is_tried_again_and_sets_nothing_aside(
    notifications_ctx, deliver, smtp_server, nclient, tokens
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    smtp_server.refuse_recipients["ana@example.org"] = ["450 4.2.1 Mailbox busy, try later"]
    deliver.event(session_event("scheduled", session_data(next_week())))
    assert deliver.send() == 0
    admin = tokens.headers("jurisdiction_admin", "CA")
    [pending] = nclient.get("/deliveries?status=pending", headers=admin).json["items"]
    assert pending["last_error"].startswith("SMTPRecipientsRefused")
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == []
    later = pending["next_attempt_at"]
    from datetime import datetime

    assert deliver.send(now=datetime.fromisoformat(later)) == 1
    assert len(smtp_server.to("ana@example.org")) == 1


@BOTH
def test_an_address_is_set_aside_by_its_last_answer_and_a_retry_on_demand_tries_it_again(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    starts = next_week()
    # The mailbox is created between two messages of one batch: the later answer is the one kept.
    smtp_server.refuse_recipients["ana@example.org"] = ["550 5.1.1 No such user yet"]
    deliver.event(session_event("scheduled", session_data(starts)))
    deliver.event(moved(starts, 1))
    assert deliver.send() == 1
    admin = tokens.headers("jurisdiction_admin", "CA")
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == []

    # Then it is closed: set aside. A retry on demand offers it again, and it is set aside again.
    smtp_server.refuse_recipients["ana@example.org"] = "550 5.2.1 Mailbox disabled"
    deliver.event(moved(starts, 2))
    assert deliver.send() == 0
    [failed] = nclient.get(
        "/deliveries", query_string={"status": "failed", "recipient": "ana@example.org"}, headers=admin
    ).json["items"][-1:]
    first = nclient.get("/undeliverable-addresses", headers=admin).json["items"]
    assert [(e["reply"], e["cleared_at"]) for e in first] == [("550 5.2.1 Mailbox disabled", None)]
    assert nclient.post(f"/deliveries/{failed['id']}/retry", headers=admin).status_code == 200
    assert deliver.send() == 0
    assert smtp_server.rcpt_tos.count("ana@example.org") == 4  # offered again on demand
    [again] = nclient.get("/undeliverable-addresses", headers=admin).json["items"]
    assert again["cleared_at"] is None and again["refused_at"] >= first[0]["refused_at"]

    # Reopened: the retry is taken, and the address is cleared by the admin who asked.
    del smtp_server.refuse_recipients["ana@example.org"]
    assert nclient.post(f"/deliveries/{failed['id']}/retry", headers=admin).status_code == 200
    assert deliver.send() == 1
    [entry] = nclient.get("/undeliverable-addresses?cleared=true", headers=admin).json["items"]
    assert entry["cleared_by"] == "jurisdiction_admin-ca"
    assert [m["Subject"][:6] for m in smtp_server.to("ana@example.org")] == ["Moved:", "Moved:"]
