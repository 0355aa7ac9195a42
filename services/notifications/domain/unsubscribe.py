"""One-click unsubscribe links (RFC 8058): whose choice a link changes, signed so that nobody can forge one.

A message a person may turn off carries ``List-Unsubscribe`` with a link to this service and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: the mail provider's own "Unsubscribe" button
then turns that kind of e-mail off for that person without signing in, as large mailbox providers expect
of anyone sending many messages. The link names the jurisdiction, the person and the kind, with an
HMAC-SHA256 of them under the service's secret (``UNSUBSCRIBE_SECRET``), so it cannot be edited into
another person's or kind's. It turns off one kind only; the critical messages (a session cancelled or
moved within 48 hours) are still sent, whatever was chosen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from services.notifications.domain.kinds import TEMPLATES


@dataclass(frozen=True)
class Unsubscription:
    tenant: str
    person: str
    kind: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    # 128 bits of the MAC keep the link short enough for any mail client; forging one is still out of reach.
    return _b64(hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()[:16])


def token_for(secret: str, unsubscription: Unsubscription) -> str:
    """The link's last segment: the person's jurisdiction, id and the kind, then their MAC."""
    payload = _b64(
        json.dumps([unsubscription.tenant, unsubscription.person, unsubscription.kind], separators=(",", ":")).encode()
    )
    return f"{payload}.{_mac(secret, payload)}"


def read_token(secret: str, token: str) -> Unsubscription | None:
    """What a link asks, if this service signed it; None for anything else (edited, truncated, made up)."""
    if not secret or not token.isascii() or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode("ascii", "replace"), _mac(secret, payload).encode("ascii")):
        return None
    try:
        tenant, person, kind = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        return None
    if not all(isinstance(value, str) and value for value in (tenant, person, kind)):
        return None
    return Unsubscription(tenant, person, kind)


def link_for(secret: str, base_url: str, tenant: str, person: str | None, kind: str) -> str | None:
    """The unsubscribe link of an e-mail to ``person`` about ``kind``: None when no secret signs links, for a
    message to nobody in particular (a supervisor's copy: the copy is the jurisdiction's choice, not theirs
    to undo), or about something that is no kind a person chooses (a notice to a webhook's contacts)."""
    if not (secret and person and kind in TEMPLATES):
        return None
    return f"{base_url}/unsubscribe/{token_for(secret, Unsubscription(tenant, person, kind))}"
