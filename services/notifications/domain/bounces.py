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

import email
import email.parser
import email.policy
import re
from dataclasses import dataclass

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


# --- refusals that come back later, as a delivery status notification (RFC 3464) ---------------------
#
# Most relays a state uses take every message first and refuse it later: the mailbox's server refuses
# it to the relay, and the relay mails a report back to the sender's address. Such a report, handed
# to ``POST /delivery-reports``, is read here.

_DIAGNOSTIC_CODE = re.compile(r"^\s*smtp\s*;\s*(\d{3})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Refusal:
    """One recipient's line of a report: what became of the message for that address."""

    address: str  # Final-Recipient: the address the reporting server tried
    original: str | None  # Original-Recipient: the address the message was sent to, when the server says
    action: str  # failed, delayed, delivered, relayed or expanded
    status: str  # the enhanced status code, such as 5.1.1
    diagnostic: str  # the remote server's own words, when given

    @property
    def is_final(self) -> bool:
        """Whether the message will never reach this address (a delay or a success is not)."""
        return self.action == "failed" and self.status.startswith("5.")

    @property
    def reply(self) -> str:
        """The refusal in the remote server's words, as a refusal at ``RCPT TO`` is shown (``550 5.1.1 …``)."""
        said = _DIAGNOSTIC_CODE.match(self.diagnostic)
        if said:
            return f"{said.group(1)} {said.group(2)}".strip()
        return self.diagnostic or self.status

    def names(self, address: str) -> bool:
        return address_key(address) in {address_key(self.address), address_key(self.original or "")}

    @property
    def refuses_the_address(self) -> bool:
        """Whether it says that this address will never take mail (as ``refuses_the_address`` at RCPT TO)."""
        said = _DIAGNOSTIC_CODE.match(self.diagnostic)
        code = int(said.group(1)) if said else 550
        # The report's own status code decides, as the enhanced code of a reply at RCPT TO does.
        return self.is_final and refuses_the_address(code, f"{self.status} {self.diagnostic}")


@dataclass(frozen=True)
class DeliveryReport:
    message_id: str | None  # the reported message's Message-ID, from the headers the report returns
    refusals: list[Refusal]


def read_delivery_report(raw: bytes) -> DeliveryReport | None:
    """The report a mail server sent about a message (a ``multipart/report; report-type=delivery-status``
    e-mail, as received); None when ``raw`` is no such report (an out-of-office reply, a person's answer)."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    if report.get_content_type() != "multipart/report" or not report.is_multipart():
        return None
    if (report.get_param("report-type") or "").lower() != "delivery-status":
        return None
    status_part, returned = None, None
    for part in report.get_payload():
        kind = part.get_content_type()
        if kind == "message/delivery-status" and status_part is None:
            status_part = part
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and returned is None:
            returned = part
    if status_part is None:
        return None
    return DeliveryReport(_returned_message_id(returned), _refusals(status_part))


def _refusals(part) -> list[Refusal]:
    # compat32 reads message/delivery-status as a list of header blocks: the message's, then one per
    # recipient. A report from a server that wrote it as plain text is read the same way.
    blocks = part.get_payload()
    if isinstance(blocks, str):
        blocks = [email.message_from_string(b) for b in re.split(r"\r?\n\s*\r?\n", blocks.strip()) if b.strip()]
    refusals = []
    for block in blocks:
        final = _address(block.get("Final-Recipient"))
        if not final:
            continue
        status = _STATUS.match(str(block.get("Status") or ""))
        refusals.append(
            Refusal(
                address=final,
                original=_address(block.get("Original-Recipient")),
                action=str(block.get("Action") or "").strip().lower(),
                status=status.group(1) if status else "",
                diagnostic=" ".join(str(block.get("Diagnostic-Code") or "").split()),
            )
        )
    return refusals


def _address(field) -> str | None:
    """``rfc822; ana@example.org`` -> ``ana@example.org``."""
    if not field:
        return None
    kind, _, address = str(field).partition(";")
    address = (address if address else kind).strip().strip("<>").strip()
    return address or None


def _returned_message_id(part) -> str | None:
    if part is None:
        return None
    payload = part.get_payload()
    if isinstance(payload, list):  # message/rfc822: the message itself
        headers = payload[0] if payload else None
    else:
        headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(payload or "")
    found = " ".join(str(headers.get("Message-ID") or "").split()) if headers is not None else ""
    return found or None
