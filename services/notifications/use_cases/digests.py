"""Digests: a person's held notifications of one kind over an hour or a day, gathered into one message.

Messages about the same thing (one session, one adaptation, one request) make one line, the latest:
twelve notices about one thread read as one. Each digest is keyed in the delivery log by its recipient,
kind and window, so it is written once however many workers run.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from services.notifications import repository as repo
from services.notifications.models import Delivery
from services.notifications.use_cases.notify import Notifier
from shared.db import utcnow


def write_due_digests(db, notifier: Notifier, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Gather the held messages whose window has ended into digests; return how many digests were written."""
    now = now or utcnow()
    written = 0
    with db.unit_of_work() as uow:
        held = repo.held_for_digest(uow.session, now, limit)

        def window(row):
            return (row.tenant, row.recipient, row.template, row.digest_until, row.language, row.person)

        for (tenant, recipient, template, until, language, person), rows in groupby(held, key=window):
            rows = list(rows)
            latest: dict[str, Delivery] = {}
            for row in rows:  # oldest first: a later message about the same thing replaces its line
                latest[row.digest_key or row.id] = row
                row.status = "digested"
            lines = [row.subject for row in latest.values()]
            rendered = notifier.renderer.render("digest", language, {"lines": lines, "count": len(rows)})
            key = f"digest:{recipient}:{template}:{until.isoformat()}"
            digest = notifier._delivery(
                tenant, key, "notifications.digest", template, recipient, person, language, rendered, {}
            )
            uow.session.add(digest)
            written += 1
        uow.commit()
    return written
