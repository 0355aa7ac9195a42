"""Webhook subscriptions: created with a secret shown once, checked against the address rules, redelivered on demand."""

from __future__ import annotations

import base64
import secrets

from services.notifications import repository as repo
from services.notifications.domain.webhooks import RefusedAddress
from services.notifications.models import WebhookSubscription
from services.notifications.webhooks import check_endpoint
from shared.auth import Principal
from shared.db import utcnow
from shared.http.problems import Problem


def _refuse(exc: RefusedAddress) -> Problem:
    return Problem(422, str(exc), title="Validation failed", errors={"url": [str(exc)]})


def subscribe(data: dict, uow, who: Principal, config) -> WebhookSubscription:
    try:
        check_endpoint(data["url"], allow_private=config.webhook_allow_private)
    except RefusedAddress as exc:
        raise _refuse(exc) from None
    if not data.get("contact_email"):
        subscriber = repo.contact_point(uow.session, who.tenant, who.sub)
        if subscriber is None or not subscriber.email:
            # Someone must hear of it when the endpoint fails for days and is disabled.
            message = (
                "Give contact_email: the address told if this endpoint fails for days and is disabled "
                "(the platform has no e-mail address for you in this jurisdiction)."
            )
            raise Problem(422, message, title="Validation failed", errors={"contact_email": [message]})
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = WebhookSubscription(
        tenant=who.tenant,
        url=data["url"],
        event_types=sorted(set(data["event_types"])),
        secret=secret,
        description=data.get("description", ""),
        contact_email=data.get("contact_email"),
        status="active",
        created_by=who.sub,
    )
    uow.session.add(row)
    uow.commit()
    return row


def unsubscribe(subscription_id: str, uow, who: Principal) -> None:
    row = repo.subscription(uow.session, who.tenant, subscription_id, for_update=True)
    if row.status != "deleted":
        row.status, row.disabled_at = "deleted", utcnow()
        row.event_types = []
        uow.commit()


def enable(subscription_id: str, uow, who: Principal, config) -> WebhookSubscription:
    row = repo.subscription(uow.session, who.tenant, subscription_id, for_update=True)
    if row.status == "deleted":
        raise Problem(409, "This subscription was deleted; create a new one.", title="Conflict")
    try:
        check_endpoint(row.url, allow_private=config.webhook_allow_private)
    except RefusedAddress as exc:
        raise _refuse(exc) from None
    row.status, row.disabled_at, row.failing_since = "active", None, None
    uow.commit()
    return row


def redeliver_since(subscription_id: str, since, uow, who: Principal) -> int:
    """Queue again every message of the subscription created since ``since`` (same webhook-id each)."""
    row = repo.subscription(uow.session, who.tenant, subscription_id)
    if row.status == "deleted":
        raise Problem(409, "This subscription was deleted; create a new one.", title="Conflict")
    if row.status != "active":
        raise Problem(409, "Enable the subscription before asking for redelivery.", title="Conflict")
    messages = repo.deliveries_of_subscription_since(uow.session, who.tenant, subscription_id, since)
    for message in messages:
        message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
    uow.commit()
    return len(messages)
