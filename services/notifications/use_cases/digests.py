"""Digests: a person's held notifications of one kind over an hour or a day, gathered into one message.

Messages about the same thing (one session, one adaptation, one request) make one line, the latest:
twelve notices about one thread read as one. Each digest is keyed in the delivery log by its address,
kind, window and first message, and its messages are claimed under lock, so it is written once however
many workers run.
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
            # One digest per address, kind and window: people who share an address (a family's, a
            # centre's) read one digest there, as they read one message of each event.
            return (row.recipient, row.template, row.digest_until)

        windows = [(key, list(rows)) for key, rows in groupby(held, key=window)]
        if len(held) == limit and len(windows) > 1:
            windows.pop()  # it may go on beyond this run's rows: the next run takes it whole
        for (recipient, template, until), rows in windows:
            first = rows[0]
            latest: dict[str, Delivery] = {}
            for row in rows:  # oldest first: a later message about the same thing replaces its line
                latest[row.digest_key or row.id] = row
                row.status = "digested"
            lines = [row.subject for row in latest.values()]
            person = first.person if len({row.person for row in rows}) == 1 else None
            unsubscribe = notifier.unsubscribe_link(first.tenant, person, template)
            # Greeted by name when it is one person's; people sharing an address read it unnamed.
            contact = repo.contact_point(uow.session, first.tenant, person) if person else None
            rendered = notifier.renderer.render(
                "digest",
                first.language,
                {"lines": lines, "count": len(rows)},
                unsubscribe=bool(unsubscribe),
                greet=True,
            ).for_reader(name=contact.name if contact else None, unsubscribe=unsubscribe)
            # Keyed by its first message too: a window of more messages than one run takes (a run's
            # limit) goes out in parts, each written once.
            key = f"digest:{recipient}:{template}:{until.isoformat()}:{first.id}"
            digest = notifier._delivery(
                first.tenant, key, "notifications.digest", template, recipient, person, first.language, rendered, {}
            )
            uow.session.add(digest)
            written += 1
        uow.commit()
    return written
