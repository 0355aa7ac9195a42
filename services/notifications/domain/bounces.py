"""Addresses that cannot take mail: when a mail server's refusal is about the address, not the message.

A roster row with a mistyped e-mail (``ana@exmaple.org``), a mailbox closed when someone left a centre:
every message to such an address is refused, and trying each new one again harms the platform's
standing with mail providers (sending to unknown users is what spammers do) and tells nobody that
the record is wrong. So an address refused for good is set aside: later messages to it are not sent,
the jurisdiction's admins see it (``GET /undeliverable-addresses``, with the people who have it) and
mend the record or clear it once the mailbox works again.

Only a refusal at ``RCPT TO`` with a permanent code that is about the mailbox counts. A refusal of the
message's content or sender (``5.7.1`` spam policy, a ``554`` at ``DATA``) says nothing of the address,
and a temporary ``4xx`` refusal is tried again as any other failure.
"""

from __future__ import annotations

import re

# RFC 3463 enhanced status codes about the recipient: 5.1.x (bad mailbox, bad domain, bad syntax, moved,
# null MX) but 5.1.7 and 5.1.8 (the sender's address), and 5.2.1 (mailbox disabled).
_ENHANCED = re.compile(r"^\s*5\.(\d{1,3})\.(\d{1,3})\b")
# RFC 5321 replies to RCPT TO that name the mailbox: unavailable, not local, name not allowed.
_MAILBOX_CODES = (550, 551, 553)


def refuses_the_address(code: int, reply: str) -> bool:
    """Whether a server's answer to ``RCPT TO`` says that this address will never take mail."""
    if code < 500:
        return False
    enhanced = _ENHANCED.match(reply)
    if enhanced:
        subject, detail = int(enhanced.group(1)), int(enhanced.group(2))
        return (subject == 1 and detail not in (7, 8)) or (subject, detail) == (2, 1)
    return code in _MAILBOX_CODES


def address_key(address: str) -> str:
    """How an address is compared: the same mailbox however its letters were typed."""
    return address.strip().lower()
