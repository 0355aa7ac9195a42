"""Which mail servers' refusals set an address aside (services/notifications/domain/bounces.py)."""

from __future__ import annotations

import pytest

from services.notifications.domain.bounces import address_key, refuses_the_address


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (550, "5.1.1 <ana@exmaple.org>: Recipient address rejected: User unknown"),  # Postfix
        (550, "5.1.1 The email account that you tried to reach does not exist."),  # a large provider
        (550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"),
        (553, "5.1.3 Bad recipient address syntax"),
        (550, "5.1.2 Host unknown"),
        (551, "5.1.6 User has moved"),
        (550, "5.2.1 The email account that you tried to reach is disabled."),
        (550, "Requested action not taken: mailbox unavailable"),  # no enhanced code: RFC 5321's meaning
        (551, "User not local"),
        (553, "Requested action not taken: mailbox name not allowed"),
    ],
)
def test_a_permanent_refusal_of_the_mailbox_sets_the_address_aside(code, reply):
    assert refuses_the_address(code, reply)


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (450, "4.2.1 Mailbox busy"),  # temporary: tried again
        (451, "4.1.1 Recipient lookup failed, try later"),
        (550, "5.7.1 Message rejected as spam"),  # the message or the sender, not the mailbox
        (554, "5.7.1 Relay access denied"),
        (552, "5.2.2 Mailbox full"),  # the mailbox exists: a later message may fit
        (552, "5.3.4 Message too big"),
        (550, "5.1.7 Bad sender's mailbox address syntax"),  # the sender's address
        (553, "5.1.8 Bad sender's system address"),
        (554, "Transaction failed"),  # no enhanced code and not a mailbox code
        (521, "Host does not accept mail"),
    ],
)
def test_a_refusal_of_the_message_a_sender_or_a_moment_sets_nothing_aside(code, reply):
    assert not refuses_the_address(code, reply)


def test_addresses_compare_however_their_letters_were_typed():
    assert address_key(" Ana.Lopez@Example.ORG ") == address_key("ana.lopez@example.org") == "ana.lopez@example.org"
