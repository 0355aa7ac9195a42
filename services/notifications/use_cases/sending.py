"""Sending what the delivery log holds: claim, send, record; a crashed send is sent again with the same id.

A message is claimed (``sending``, with the time) and committed before it goes out, and recorded as
``sent`` after. A sender that dies in between leaves it ``sending``: once its lease has run out another
sender takes it, counts it as an ambiguous send, and sends it again with the same Message-ID (or
``webhook-id``), so the receiver can recognise the copy. Nothing is lost; a duplicate is possible only
in that window, and recognisable.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta

from services.notifications import metrics
from services.notifications import repository as repo
from services.notifications.domain.bounces import address_key
from services.notifications.domain.pages import page_of
from services.notifications.domain.unsubscribe import link_for
from services.notifications.domain.webhooks import TEST_EVENT, next_wait
from services.notifications.mail import PermanentFailure, build_message
from services.notifications.models import Delivery, UndeliverableAddress
from services.notifications.rendering import Renderer
from services.notifications.use_cases.undeliverable import set_address_aside
from shared.db import utcnow
from shared.http.problems import Problem
from shared.logging import get_logger

log = get_logger("sender")
# Seconds before each new attempt of an e-mail whose send failed (then it is marked failed).
EMAIL_RETRY_DELAYS = (10, 60, 300, 1800, 7200, 21600, 43200)


def unsubscribe_url(config, row: Delivery) -> str | None:
    """The one-click unsubscribe link of an e-mail (``domain/unsubscribe.py``: which have none)."""
    return link_for(config.unsubscribe_secret, config.public_base_url, row.tenant, row.person, row.template)


def claim(db, config, *, now: datetime | None = None, limit: int = 200, emails: int | None = None) -> list[dict]:
    """Claim the messages due now, at most ``emails`` e-mails among them (None: any number); return what is
    needed to send each (the rows' state is committed). E-mails over that number are left as they were."""
    now = now or utcnow()
    with db.unit_of_work() as uow:
        stale_before = now - timedelta(seconds=config.send_lease_seconds)
        # No e-mail may go now: webhook messages are not kept waiting behind the e-mails that must.
        only = "webhook" if emails is not None and emails <= 0 else None
        rows = repo.deliveries_to_send(uow.session, now, stale_before, limit, channel=only)
        hooks = repo.subscriptions_by_id(uow.session, [r.recipient for r in rows if r.channel == "webhook"])
        set_aside = repo.set_aside(
            uow.session, {(r.tenant, address_key(r.recipient)) for r in rows if r.channel == "email"}
        )
        claimed = []
        for row in rows:
            refused = set_aside.get((row.tenant, address_key(row.recipient))) if row.channel == "email" else None
            if row.channel == "email" and refused is None and emails is not None:
                if emails <= 0:
                    continue  # the mail server's pace: it waits, unclaimed and untouched, for the next look
                emails -= 1
            if row.status == "sending":
                row.ambiguous_sends += 1
                metrics.AMBIGUOUS.labels(row.channel).inc()
                log.warning("sending again a message whose earlier send was never recorded", message_id=row.message_id)
            item = {"id": row.id, "channel": row.channel, "template": row.template}
            if row.channel == "webhook":
                hook = hooks.get(row.recipient)
                if hook is None or hook.status != "active":
                    row.status, row.last_error = "failed", "the subscription is disabled or deleted"
                    continue
                item.update(
                    subscription=hook.id,
                    url=hook.url,
                    secret=hook.secret,
                    webhook_id=row.message_id,
                    body=row.text_body,
                )
            else:
                if refused is not None:
                    row.status, row.last_error = "failed", _not_sent_to(refused)
                    metrics.FAILED.labels("email", "undeliverable").inc()
                    continue
                item.update(tenant=row.tenant, recipient=row.recipient, message_id=row.message_id)
                item["message"] = build_message(row, config.mail_from, unsubscribe_url(config, row))
            row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
            claimed.append(item)
        uow.commit()
    return claimed


def send_pending(db, config, mailer, poster=None, *, now: datetime | None = None, limit: int = 200) -> int:
    """Send one batch of due messages (e-mail through ``mailer``, webhooks through ``poster``; either may be
    None to send the other channel only); return how many went out."""
    # With no mailer (a sender of webhook messages only), no e-mail is claimed.
    batch = claim(db, config, now=now, limit=limit, emails=mailer.pace.allowed() if mailer is not None else 0)
    if not batch:
        return 0
    # Each e-mail's outcome for its address, in the order sent: taken (None), or refused for good (the reply).
    sent, failed, addressed = [], [], []
    for item in batch:
        if item["channel"] == "webhook":
            outcome = poster.post(item["url"], item["secret"], item["webhook_id"], item["body"])
            metrics.SEND_LATENCY.labels("webhook").observe(outcome.latency_ms / 1000)
            if outcome.ok:
                sent.append((item, outcome.latency_ms, outcome.status))
                metrics.SENT.labels("webhook", item["template"]).inc()
            else:
                failed.append((item, outcome.error or "failed", False, outcome.status, outcome.latency_ms))
                metrics.FAILED.labels("webhook", "error").inc()
            continue
        try:
            latency = mailer.send(item["message"])
        except PermanentFailure as exc:
            failed.append((item, str(exc), True, None, None))
            metrics.FAILED.labels("email", "refused").inc()
            if exc.refused_address:
                addressed.append((item, exc.refused_address))
        except Exception as exc:  # noqa: BLE001 - the server is away or answered 4xx: try again later
            failed.append((item, f"{type(exc).__name__}: {exc}", False, None, None))
            metrics.FAILED.labels("email", "error").inc()
            mailer.close()
        else:
            sent.append((item, latency, None))
            addressed.append((item, None))
            metrics.SENT.labels("email", item["template"]).inc()
            metrics.SEND_LATENCY.labels("email").observe(latency / 1000)
    _record(db, config, sent, failed, addressed, max(now or utcnow(), utcnow()))
    return len(sent)


def _record(db, config, sent, failed, addressed, now: datetime) -> None:
    with db.unit_of_work() as uow:
        repo.mark_sent(uow.session, [(item["id"], latency, status) for item, latency, status in sent], now)
        _note_addresses(uow.session, addressed, now)
        rows = {r.id: r for r in repo.deliveries_by_id(uow.session, [item["id"] for item, *_ in failed])}
        for item, error, permanent, status, latency in failed:
            row = rows[item["id"]]
            row.last_error, row.response_status, row.latency_ms = error[:2000], status, latency
            if row.channel == "webhook" and row.template == TEST_EVENT:
                wait = None  # a test is tried once: its outcome is what the admin asked to see, now
            elif row.channel == "webhook":
                wait = next_wait(row.attempts)
                _note_failure(uow.session, config, row, now)
            else:
                attempts_left = row.attempts <= len(EMAIL_RETRY_DELAYS) and row.attempts < config.send_max_attempts
                wait = timedelta(seconds=EMAIL_RETRY_DELAYS[row.attempts - 1]) if attempts_left else None
            if permanent or wait is None:
                row.status = "failed"
            else:
                row.status, row.next_attempt_at = "pending", now + wait
        for subscription_id in {item["subscription"] for item, *_ in sent if item["channel"] == "webhook"}:
            repo.note_webhook_success(uow.session, subscription_id)
        uow.commit()


def _note_addresses(session, addressed, now: datetime) -> None:
    """Set aside the addresses refused for good; clear those that took a message (the mailbox works again).
    An address's last outcome in the batch is the one kept."""
    last = {(item["tenant"], address_key(item["recipient"])): (item, reply) for item, reply in addressed}
    repo.clear_addresses(session, {pair for pair, (_, reply) in last.items() if reply is None}, now, "accepted")
    for (tenant, _), (item, reply) in last.items():
        if reply is None:
            continue
        set_address_aside(session, tenant, item["recipient"], reply, item["message_id"], now)
        log.warning("address set aside: its mail server refused it for good", tenant=tenant, reply=reply)


def _not_sent_to(refused: UndeliverableAddress) -> str:
    return (
        f"not sent: {refused.address} was refused by its mail server on {refused.refused_at:%Y-%m-%d %H:%M} UTC "
        f"({refused.reply}); clear it at /undeliverable-addresses once the address is mended"
    )


def _note_failure(session, config, delivery: Delivery, now: datetime) -> None:
    """An endpoint failing without a success for ``webhook_disable_after_hours`` is disabled, and its people told."""
    hook = repo.subscription_for_update(session, delivery.recipient)
    if hook is None or hook.status != "active":
        return
    hook.failing_since = hook.failing_since or now
    if now - hook.failing_since < timedelta(hours=config.webhook_disable_after_hours):
        return
    hook.status, hook.disabled_at = "disabled", now
    log.warning("webhook endpoint disabled after failing for days", subscription=hook.id, url=hook.url)
    context = {
        "url": hook.url,
        "subscription": hook.id,
        "failing_since": f"{hook.failing_since:%Y-%m-%d %H:%M}",
        "failing_since_iso": hook.failing_since.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    for address, language, person, name in _told_of_disabling(session, hook):
        # The admin who subscribed it is led to the portal's Webhooks page; the contact address is no one's.
        page = page_of("webhook_disabled", context, person)
        rendered = (
            _notices(config.portal_url)
            .render("webhook_disabled", language, context, footer="footer_admin", page=page, greet=True)
            .for_reader(name=name)
        )
        session.add(
            Delivery(
                tenant=hook.tenant,
                event_id=f"webhook-disabled:{hook.id}:{now.isoformat()}",
                event_type="notifications.webhook.disabled",
                recipient=address,
                person=person,
                channel="email",
                template="webhook_disabled",
                message_id=f"<{uuid.uuid4()}@t4t.localhost>",
                language=language,
                subject=rendered.subject,
                text_body=rendered.text,
                html_body=rendered.html,
                invite=None,
                status="pending",
                next_attempt_at=now,
            )
        )


@functools.cache
def _notices(portal_url: str) -> Renderer:
    """The renderer of the service's own notices, caused by no event (an endpoint disabled), read once per process."""
    return Renderer(portal_url=portal_url)


def _told_of_disabling(session, hook) -> list[tuple[str, str, str | None, str | None]]:
    """(address, language, person, name): the jurisdiction's admin who subscribed, at their contact point, and
    the subscription's contact address; once each."""
    told: dict[str, tuple[str, str, str | None, str | None]] = {}
    subscriber = repo.contact_point(session, hook.tenant, hook.created_by)
    if subscriber is not None and subscriber.email:
        told[subscriber.email.lower()] = (subscriber.email, subscriber.language, subscriber.person, subscriber.name)
    if hook.contact_email:
        told.setdefault(hook.contact_email.lower(), (hook.contact_email, "en", None, None))
    return list(told.values())


def retry_delivery(delivery_id: str, uow, who):
    """Send a message again now, with the same Message-ID or webhook-id: a failed one, or a webhook message
    already delivered (redelivery on demand)."""
    row = repo.delivery(uow.session, who.tenant, delivery_id, for_update=True)
    if row.status in ("pending", "sending") or (row.status == "sent" and row.channel != "webhook"):
        raise Problem(
            409,
            f"This message is {row.status}; a failed message, or a delivered webhook message, can be sent again.",
            title="Conflict",
        )
    if row.content_deleted_at is not None:
        raise Problem(
            409,
            f"This message's content was deleted on {row.content_deleted_at:%Y-%m-%d} (it is kept "
            "MESSAGE_CONTENT_RETENTION_DAYS after it was written): it cannot be sent again.",
            title="Conflict",
        )
    if row.channel == "email":
        # Asked to try again: an address set aside is tried too, and set aside again if still refused.
        repo.clear_addresses(uow.session, {(row.tenant, address_key(row.recipient))}, utcnow(), who.sub)
    row.status, row.next_attempt_at, row.attempts = "pending", utcnow(), 0
    uow.commit()
    return row
