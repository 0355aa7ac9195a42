"""Webhook subscriptions: created with a secret shown once, checked against the address rules, redelivered and
tested on demand."""

from __future__ import annotations

import base64
import secrets
import uuid

from services.notifications import repository as repo
from services.notifications.domain.webhooks import TEST_EVENT, RefusedAddress
from services.notifications.models import Delivery, WebhookSubscription
from services.notifications.webhooks import check_endpoint
from shared.auth import Principal
from shared.db import utcnow
from shared.envelope import make_event
from shared.http.problems import Problem


def _refuse(exc: RefusedAddress) -> Problem:
    return Problem(422, str(exc), title="Validation failed", errors={"url": [str(exc)]})


def _refuse_if_deleted(row: WebhookSubscription) -> None:
    """A deleted subscription is kept for syncing systems to see it go; nothing more is done with it."""
    if row.status == "deleted":
        raise Problem(409, "This subscription was deleted; create a new one.", title="Conflict")


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
    _refuse_if_deleted(row)
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
    _refuse_if_deleted(row)
    if row.status != "active":
        raise Problem(409, "Enable the subscription before asking for redelivery.", title="Conflict")
    messages = repo.deliveries_of_subscription_since(uow.session, who.tenant, subscription_id, since)
    for message in messages:
        message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
    uow.commit()
    return len(messages)


def send_test(subscription_id: str, uow, who: Principal) -> Delivery:
    """Queue a test message to one active endpoint, signed as every message is, tried once: what a state
    system's developers send themselves to check their verification, without waiting for a real event."""
    row = repo.subscription(uow.session, who.tenant, subscription_id, for_update=True)
    _refuse_if_deleted(row)
    if row.status != "active":
        raise Problem(
            409, "Enable the subscription before testing it (its address is checked again).", title="Conflict"
        )
    event = make_event(
        TEST_EVENT,
        source="/services/notifications",
        subject=row.id,
        tenant=who.tenant,
        data={"subscription_id": row.id, "url": row.url, "requested_by": who.sub},
    )
    message = Delivery(
        tenant=who.tenant,
        event_id=event.id,
        event_type=TEST_EVENT,
        recipient=row.id,
        person=None,
        channel="webhook",
        template=TEST_EVENT,
        message_id=f"msg_{uuid.uuid4().hex}",
        language="",
        subject=TEST_EVENT,
        text_body=event.to_json(),
        html_body="",
        invite=None,
        status="pending",
        next_attempt_at=utcnow(),
    )
    uow.session.add(message)
    uow.commit()
    return message
