"""The reminders that fall due: each written into the delivery log once, whatever the number of replicas."""

from __future__ import annotations

from datetime import datetime

from services.notifications import repository as repo
from services.notifications.use_cases.notify import Notifier
from shared.db import utcnow


def write_due_reminders(db, notifier: Notifier, *, now: datetime | None = None, limit: int = 500) -> int:
    """Turn the reminders due by ``now`` into messages; return how many reminders were handled.

    Replicas skip the rows another holds (``SKIP LOCKED``; SQLite has one writer at a time), and each
    message is keyed by its reminder and due time in the delivery log, so a reminder goes once.
    """
    now = now or utcnow()
    handled = 0
    while True:
        with db.unit_of_work() as uow:
            due = repo.due_reminders(uow.session, now, limit)
            for reminder in due:
                notifier.remind(uow.session, reminder)
            uow.commit()
        handled += len(due)
        if len(due) < limit:
            return handled
