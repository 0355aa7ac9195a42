"""Sending what the delivery log holds: claim, send, record; a crashed send is sent again with the same id.

A message is claimed (``sending``, with the time) and committed before it goes out, and recorded as
``sent`` after. A sender that dies in between leaves it ``sending``: once its lease has run out another
sender takes it, counts it as an ambiguous send, and sends it again with the same Message-ID, so the
receiver can recognise the copy. Nothing is lost; a duplicate is possible only in that window, and
recognisable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notifications import metrics
from services.notifications import repository as repo
from services.notifications.mail import PermanentFailure, build_message
from shared.db import utcnow
from shared.http.problems import Problem
from shared.logging import get_logger

log = get_logger("sender")
# Seconds before each new attempt of a message whose send failed (then it is marked failed).
RETRY_DELAYS = (10, 60, 300, 1800, 7200, 21600, 43200)


def claim(db, config, *, now: datetime | None = None, limit: int = 200) -> list[dict]:
    """Claim the messages due now; return what is needed to send each (the rows' state is committed)."""
    now = now or utcnow()
    with db.unit_of_work() as uow:
        rows = repo.deliveries_to_send(uow.session, now, now - timedelta(seconds=config.send_lease_seconds), limit)
        claimed = []
        for row in rows:
            if row.status == "sending":
                row.ambiguous_sends += 1
                metrics.AMBIGUOUS.labels(row.channel).inc()
                log.warning("sending again a message whose earlier send was never recorded", message_id=row.message_id)
            row.status, row.claimed_at, row.attempts = "sending", now, row.attempts + 1
            claimed.append((row.id, build_message(row, config.mail_from), row.template, row.attempts))
        uow.commit()
    return [{"id": i, "message": m, "template": t, "attempts": a} for i, m, t, a in claimed]


def send_pending(db, config, mailer, *, now: datetime | None = None, limit: int = 200) -> int:
    """Send one batch of due messages through ``mailer``; return how many went out."""
    batch = claim(db, config, now=now, limit=limit)
    if not batch:
        return 0
    sent, failed = [], []
    for item in batch:
        try:
            latency = mailer.send(item["message"])
        except PermanentFailure as exc:
            failed.append((item, str(exc), True))
            metrics.FAILED.labels("email", "refused").inc()
        except Exception as exc:  # noqa: BLE001 - the server is away or answered 4xx: try again later
            failed.append((item, f"{type(exc).__name__}: {exc}", False))
            metrics.FAILED.labels("email", "error").inc()
            mailer.close()
        else:
            sent.append((item["id"], latency))
            metrics.SENT.labels("email", item["template"]).inc()
            metrics.SEND_LATENCY.labels("email").observe(latency / 1000)
    with db.unit_of_work() as uow:
        repo.mark_sent(uow.session, sent, utcnow())
        for item, error, permanent in failed:
            row = repo.deliveries_by_id(uow.session, [item["id"]])[0]
            row.last_error = error[:2000]
            if permanent or row.attempts > len(RETRY_DELAYS) or row.attempts >= config.send_max_attempts:
                row.status = "failed"
            else:
                row.status = "pending"
                row.next_attempt_at = utcnow() + timedelta(seconds=RETRY_DELAYS[row.attempts - 1])
        uow.commit()
    return len(sent)


def retry_delivery(delivery_id: str, uow, who):
    """Send a failed message again now (the same Message-ID)."""
    row = repo.delivery(uow.session, who.tenant, delivery_id, for_update=True)
    if row.status != "failed":
        raise Problem(409, f"This message is {row.status}; only a failed one can be retried.", title="Conflict")
    row.status, row.next_attempt_at, row.attempts = "pending", utcnow(), 0
    uow.commit()
    return row
