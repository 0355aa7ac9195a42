"""Refusals that come back after the mail server took the message: a report (RFC 3464) handed to
``POST /delivery-reports`` fails the message, and sets an address refused for good aside."""

from __future__ import annotations

import re

import pytest

from tests.notifications.conftest import add_contact, next_week, session_data, session_event
from tests.notifications.delivery_reports import OUT_OF_OFFICE, exchange_report, postfix_report

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
REPORT = {"Content-Type": "message/rfc822"}


def sent_to(nclient, admin, address: str) -> dict:
    [row] = nclient.get("/deliveries", query_string={"recipient": address}, headers=admin).json["items"]
    return row


def reports_counted(nclient, outcome: str) -> float:
    """``notifications_delivery_reports_total{outcome=...}`` as the API's /metrics shows it (0 before the first)."""
    text = nclient.get("/metrics").get_data(as_text=True)
    found = re.search(rf'^notifications_delivery_reports_total{{outcome="{outcome}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def invite_everyone(deliver, smtp_server, registrants, starts=None, sequence=0):
    deliver.event(session_event("scheduled", session_data(starts or next_week(), registrants=registrants)))
    deliver.send()


@BOTH
def test_a_report_of_an_unknown_mailbox_fails_the_message_and_sets_the_address_aside(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    """The relay took the message (the SMTP server here accepts everything); the mailbox's server refused it
    to the relay, whose report comes back to the sending address's mailbox and is handed over."""
    add_contact(notifications_ctx, "ana", "ana@exmaple.org", name="Ana López")
    add_contact(notifications_ctx, "ben", "ben@example.org")
    add_contact(notifications_ctx, "tx-ana", "ana@exmaple.org", tenant="TX")
    starts = next_week()
    invite_everyone(deliver, smtp_server, ("ana", "ben"), starts)
    [received] = smtp_server.to("ana@exmaple.org")
    admin = tokens.headers("jurisdiction_admin", "CA")
    sent = sent_to(nclient, admin, "ana@exmaple.org")
    assert sent["status"] == "sent" and sent["message_id"] == received["Message-ID"]
    marker = nclient.get("/deliveries?changed_after=0", headers=admin).json["last_change"]

    counted = reports_counted(nclient, "address_set_aside")
    answer = nclient.post(
        "/delivery-reports", data=postfix_report(received["Message-ID"], "ana@exmaple.org"), headers=REPORT
    )
    assert answer.status_code == 200, answer.json
    assert reports_counted(nclient, "address_set_aside") == counted + 1
    assert answer.json == {"message_id": received["Message-ID"], "status": "5.1.1", "outcome": "address_set_aside"}

    failed = sent_to(nclient, admin, "ana@exmaple.org")
    assert failed["status"] == "failed"
    assert failed["last_error"].startswith("bounced after its mail server took it: 550 5.1.1 <ana@exmaple.org>")
    # The correction reaches a state system syncing the delivery log.
    later = nclient.get(f"/deliveries?changed_after={marker}", headers=admin).json["items"]
    assert [(d["id"], d["status"]) for d in later] == [(failed["id"], "failed")]
    [entry] = nclient.get("/undeliverable-addresses", headers=admin).json["items"]
    assert entry["address"] == "ana@exmaple.org" and entry["people"] == [{"person": "ana", "name": "Ana López"}]
    assert entry["reply"].startswith("550 5.1.1 <ana@exmaple.org>: Recipient address rejected: User unknown")
    assert entry["message_id"] == received["Message-ID"]
    # Texas's contact at the same address is Texas's matter: nothing set aside there.
    assert (
        nclient.get("/undeliverable-addresses", headers=tokens.headers("jurisdiction_admin", "TX")).json["items"] == []
    )

    # Nothing more is offered to the address; Ben's messages go on.
    deliver.event(session_event("cancelled", session_data(starts, sequence=1, registrants=("ana", "ben"))))
    deliver.send()
    assert len(smtp_server.to("ana@exmaple.org")) == 1 and len(smtp_server.to("ben@example.org")) == 2

    # The same report handed over twice (a mailbox's retry) changes nothing more.
    listed = nclient.get("/undeliverable-addresses", headers=admin).json["items"]
    again = nclient.post(
        "/delivery-reports", data=postfix_report(received["Message-ID"], "ana@exmaple.org"), headers=REPORT
    )
    assert again.status_code == 200 and again.json["outcome"] == "address_set_aside"
    assert nclient.get(f"/deliveries/{failed['id']}", headers=admin).json == failed
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == listed


@BOTH
def test_a_disabled_mailbox_reported_by_an_office_suite_is_set_aside_too(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(notifications_ctx, "ben", "Ben@Example.org")
    invite_everyone(deliver, smtp_server, ("ben",))
    [received] = smtp_server.to("Ben@Example.org")
    answer = nclient.post(
        "/delivery-reports", data=exchange_report(received["Message-ID"], "ben@example.org"), headers=REPORT
    )
    assert (
        answer.status_code == 200 and answer.json["outcome"] == "address_set_aside" and answer.json["status"] == "5.2.1"
    )
    [entry] = nclient.get("/undeliverable-addresses", headers=tokens.headers("jurisdiction_admin", "CA")).json["items"]
    assert entry["address"] == "Ben@Example.org"


@BOTH
def test_a_refusal_of_the_message_or_of_a_forwarded_address_fails_the_message_only(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    add_contact(notifications_ctx, "ben", "ben@centre.example.org")
    invite_everyone(deliver, smtp_server, ("ana", "ben"))
    admin = tokens.headers("jurisdiction_admin", "CA")
    [to_ana] = smtp_server.to("ana@example.org")
    spam = postfix_report(
        to_ana["Message-ID"], "ana@example.org", status="5.7.1", diagnostic="smtp; 550 5.7.1 Message rejected as spam"
    )
    answer = nclient.post("/delivery-reports", data=spam, headers=REPORT)
    assert answer.json == {"message_id": to_ana["Message-ID"], "status": "5.7.1", "outcome": "message_failed"}
    assert sent_to(nclient, admin, "ana@example.org")["last_error"] == (
        "bounced after its mail server took it: 550 5.7.1 Message rejected as spam"
    )
    # Ben's centre forwards his mail to an address that no longer exists: his own address is not the one refused.
    [to_ben] = smtp_server.to("ben@centre.example.org")
    forwarded = postfix_report(to_ben["Message-ID"], "ben.old@home.example.org")
    answer = nclient.post("/delivery-reports", data=forwarded, headers=REPORT)
    assert answer.json["outcome"] == "message_failed"
    assert sent_to(nclient, admin, "ben@centre.example.org")["status"] == "failed"
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == []


@BOTH
def test_a_delay_another_senders_message_or_something_else_changes_nothing(
    notifications_ctx, deliver, smtp_server, nclient, tokens, database
):
    add_contact(notifications_ctx, "ana", "ana@example.org")
    invite_everyone(deliver, smtp_server, ("ana",))
    admin = tokens.headers("jurisdiction_admin", "CA")
    [received] = smtp_server.to("ana@example.org")
    before = sent_to(nclient, admin, "ana@example.org")
    delayed = postfix_report(
        received["Message-ID"], "ana@example.org", action="delayed", status="4.4.7",
        diagnostic="smtp; 451 4.4.7 Delivery delayed: try again later",
    )  # fmt: skip
    answer = nclient.post("/delivery-reports", data=delayed, headers=REPORT)
    assert answer.status_code == 200 and answer.json["outcome"] == "not_refused"
    unknown = nclient.post(
        "/delivery-reports", data=postfix_report("<not-ours@example.net>", "ana@example.org"), headers=REPORT
    )
    assert unknown.status_code == 200 and unknown.json["outcome"] == "unknown_message"
    assert sent_to(nclient, admin, "ana@example.org") == before
    assert nclient.get("/undeliverable-addresses", headers=admin).json["items"] == []

    for body, headers, status in (
        (OUT_OF_OFFICE, REPORT, 422),  # an out-of-office reply to the sending address
        (b"", REPORT, 422),
        (b"\x00\xff\xfe not mail at all", REPORT, 422),
        (postfix_report(received["Message-ID"], "ana@example.org"), {"Content-Type": "text/plain"}, 415),
        (postfix_report(received["Message-ID"], "ana@example.org"), {}, 415),
    ):
        refused = nclient.post("/delivery-reports", data=body, headers=headers)
        assert refused.status_code == status and refused.content_type == "application/problem+json", refused.json
    assert sent_to(nclient, admin, "ana@example.org") == before
