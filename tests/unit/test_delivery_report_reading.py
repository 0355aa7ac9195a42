"""Reading the delivery reports (RFC 3464) mail servers send back (services/notifications/domain/bounces.py)."""

from __future__ import annotations

from services.notifications.domain.bounces import read_delivery_report
from tests.notifications.delivery_reports import OUT_OF_OFFICE, exchange_report, postfix_report


def test_a_postfix_report_names_the_message_the_address_and_why():
    report = read_delivery_report(postfix_report("<m1@t4t.example.gov>", "ana@exmaple.org"))
    assert report.message_id == "<m1@t4t.example.gov>"
    [refusal] = report.refusals
    assert (refusal.address, refusal.original, refusal.action, refusal.status) == (
        "ana@exmaple.org",
        None,
        "failed",
        "5.1.1",
    )
    assert refusal.reply == (
        "550 5.1.1 <ana@exmaple.org>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    assert refusal.is_final and refusal.refuses_the_address and refusal.names("ANA@exmaple.org ")


def test_an_office_suites_report_returning_the_whole_message_is_read_the_same_way():
    report = read_delivery_report(exchange_report("<m2@t4t.example.gov>", "ben@example.org"))
    assert report.message_id == "<m2@t4t.example.gov>"
    [refusal] = report.refusals
    assert refusal.status == "5.2.1" and refusal.original == "ben@example.org" and refusal.refuses_the_address


def test_a_refusal_of_the_message_is_final_but_not_about_the_address_and_a_delay_is_neither():
    spam = read_delivery_report(
        postfix_report("<m3@t4t>", "cy@example.org", status="5.7.1", diagnostic="smtp; 550 5.7.1 Rejected as spam")
    ).refusals[0]
    assert spam.is_final and not spam.refuses_the_address
    full = read_delivery_report(
        postfix_report("<m4@t4t>", "cy@example.org", status="5.2.2", diagnostic="smtp; 552 5.2.2 Mailbox full")
    ).refusals[0]
    assert full.is_final and not full.refuses_the_address
    delayed = read_delivery_report(
        postfix_report("<m5@t4t>", "cy@example.org", action="delayed", status="4.4.7", diagnostic="smtp; 451 4.4.7 x")
    ).refusals[0]
    assert not delayed.is_final and not delayed.refuses_the_address
    # A report with no remote words: its status code still decides.
    bare = read_delivery_report(postfix_report("<m6@t4t>", "cy@example.org", diagnostic="")).refusals[0]
    assert bare.reply == "5.1.1" and bare.refuses_the_address


def test_a_report_written_as_plain_text_or_returning_no_headers_is_still_read():
    raw = postfix_report("<m7@t4t>", "dee@example.org").replace(
        b"Content-Type: message/delivery-status\r\n", b"Content-Type: message/delivery-status; charset=us-ascii\r\n"
    )
    assert read_delivery_report(raw).refusals[0].address == "dee@example.org"
    no_headers = postfix_report("<m8@t4t>", "dee@example.org").replace(b"text/rfc822-headers", b"text/plain")
    report = read_delivery_report(no_headers)
    assert report.message_id is None and report.refusals[0].status == "5.1.1"


def test_anything_else_is_no_report():
    assert read_delivery_report(OUT_OF_OFFICE) is None
    assert read_delivery_report(b"") is None
    assert read_delivery_report(b"\x00\xff garbage") is None
    not_status = postfix_report("<m9@t4t>", "a@example.org").replace(b"report-type=delivery-status", b"report-type=x")
    assert read_delivery_report(not_status) is None
    cut = postfix_report("<m9@t4t>", "a@example.org")
    for n in range(0, len(cut), 97):  # cut short anywhere: read or refused, never an error
        read_delivery_report(cut[:n])
