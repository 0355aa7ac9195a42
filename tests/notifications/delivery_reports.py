"""Delivery status notifications (RFC 3464) as mail servers write them, for the tests of ``POST /delivery-reports``."""

from __future__ import annotations


def postfix_report(
    message_id: str,
    recipient: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in virtual mailbox table",
    original: str | None = None,
) -> bytes:
    """A report as Postfix writes it: the explanation, the status fields and the returned headers."""
    diagnostic = diagnostic.format(recipient=recipient)
    original_line = f"Original-Recipient: rfc822;{original}\r\n" if original else ""
    return (
        "Return-Path: <>\r\n"
        "Received: by relay.state.example.gov (Postfix) id 4B2C61E0F2A; Tue,  8 Dec 2026 01:30:12 +0000 (UTC)\r\n"
        "Date: Tue,  8 Dec 2026 01:30:12 +0000 (UTC)\r\n"
        "From: MAILER-DAEMON@relay.state.example.gov (Mail Delivery System)\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "To: notifications@t4t.example.gov\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="4B2C61E0F2A.1765157412/relay"\r\n'
        "Message-Id: <20261208013012.4B2C61E0F2A@relay.state.example.gov>\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        "\r\n"
        "--4B2C61E0F2A.1765157412/relay\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This is the mail system at host relay.state.example.gov.\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        "\r\n"
        "--4B2C61E0F2A.1765157412/relay\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; relay.state.example.gov\r\n"
        "X-Postfix-Queue-ID: 4B2C61E0F2A\r\n"
        "Arrival-Date: Tue,  8 Dec 2026 01:30:10 +0000 (UTC)\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"{original_line}"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mx.example.org\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        "\r\n"
        "--4B2C61E0F2A.1765157412/relay\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: Training for Trainers <notifications@t4t.example.gov>\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: You're invited: Session 1\r\n"
        "\r\n"
        "--4B2C61E0F2A.1765157412/relay--\r\n"
    ).encode()


def exchange_report(message_id: str, recipient: str) -> bytes:
    """A report as an office suite's server writes it: the whole original message returned."""
    return (
        "From: Microsoft Outlook <postmaster@state.example.gov>\r\n"
        "To: <notifications@t4t.example.gov>\r\n"
        "Subject: Undeliverable: You're invited: Session 1\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Your message to the recipient couldn't be delivered.\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns;CO1PR01MB1234.prod.outlook.com\r\n"
        "Received-From-MTA: dns;relay.state.example.gov\r\n"
        "\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Final-Recipient: rfc822;{recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.2.1\r\n"
        "Diagnostic-Code: smtp;550 5.2.1 The email account that you tried to reach is disabled.\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: message/rfc822\r\n"
        "\r\n"
        "From: Training for Trainers <notifications@t4t.example.gov>\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: You're invited: Session 1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "A session of your training has been scheduled.\r\n"
        "\r\n"
        "--b1--\r\n"
    ).encode()


OUT_OF_OFFICE = (
    b"From: Ana <ana@example.org>\r\nTo: notifications@t4t.example.gov\r\nSubject: Out of office\r\n"
    b"Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nI am away until Monday.\r\n"
)
