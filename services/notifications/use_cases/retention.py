"""The delivery log forgets what it no longer needs, so it does not grow without end.

A national year writes tens of millions of messages, each with its bodies and invite (several KB), and
those bodies hold people's names and whereabouts. A settled message (sent, failed, gathered into a
digest) keeps its content ``MESSAGE_CONTENT_RETENTION_DAYS`` (30) after it was written: long enough to
send a failed one again, or to redeliver what a webhook endpoint missed. Then its bodies and invite are
deleted and its row keeps who, what (the subject), when and how it went, for support's "did Ana get her
invitation?" and the year's reports, until about ``DELIVERY_LOG_RETENTION_DAYS`` (400). Sent and dropped
reminders, of sessions and of community calls, go once the content would. Messages still to be sent, or held for a digest, are never touched.

Each statement handles at most ``CHUNK`` rows in its own transaction, so the job never holds many locks
or a long transaction beside the consumer and the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifications import repository as repo
from services.notifications.community_models import CallReminder
from services.notifications.models import Reminder
from shared.db import utcnow
from shared.logging import get_logger

log = get_logger("retention")
CHUNK = 2000


@dataclass(frozen=True)
class Forgotten:
    contents: int
    deliveries: int
    reminders: int


def forget_old_messages(db, config, *, now: datetime | None = None, chunk: int = CHUNK) -> Forgotten:
    """Delete what is past its retention (see the module's docstring); return how much went."""
    now = now or utcnow()
    content_days, log_days = config.message_content_retention_days, config.delivery_log_retention_days
    content_before = now - timedelta(days=content_days)
    contents = _in_chunks(db, lambda session: repo.delete_old_content(session, content_before, now, chunk), chunk)
    # A row's content goes when it is ``content_days`` old; the row itself ``log_days - content_days`` later.
    rows_before = now - timedelta(days=log_days - content_days)
    deliveries = _in_chunks(db, lambda session: repo.delete_old_deliveries(session, rows_before, chunk), chunk)
    reminders = sum(
        _in_chunks(
            db, lambda session, model=model: repo.delete_old_reminders(session, model, content_before, chunk), chunk
        )
        for model in (Reminder, CallReminder)
    )
    forgotten = Forgotten(contents, deliveries, reminders)
    if contents or deliveries or reminders:
        log.info("forgot old messages", contents=contents, deliveries=deliveries, reminders=reminders)
    return forgotten


def _in_chunks(db, statement, chunk: int) -> int:
    total = 0
    while True:
        with db.unit_of_work() as uow:
            done = statement(uow.session)
            uow.commit()
        total += done
        if done < chunk:
            return total
