"""Housekeeping: the worker prunes what the messaging and idempotency tables no longer need.

What each table must keep, and so what is pruned:

- **outbox**: a row is needed until the relay has published it (pending rows are never pruned).
  Sent and unroutable rows are kept ``OUTBOX_RETENTION_HOURS`` (7 days) for an operator's questions.
- **inbox**: a row is what makes a redelivered event a duplicate, so it must outlive any redelivery:
  the broker's own (seconds to minutes after a consumer dies) and a dead letter replayed by hand.
  Rows are kept ``INBOX_RETENTION_HOURS`` (30 days), and longer for any event that still has an
  unresolved dead letter in this service, since replaying that letter must find the event handled.
- **idempotency keys**: an answer is replayed for ``IDEMPOTENCY_KEY_TTL_HOURS`` (24 hours), then the
  key starts afresh; expired keys are pruned.
- **unfinished runs**: a count of the times an event's handler never finished (its process died) is
  needed while the broker may still redeliver that event; counts untouched for
  ``INBOX_RETENTION_HOURS`` are pruned like the inbox's rows.

Rows go in small batches, each its own short transaction, so pruning never holds up the service's
writers (on SQLite, the write lock is held only for one batch at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from shared.db import Database, utcnow
from shared.logging import get_logger
from shared.tables import OUTBOX_SENT, OUTBOX_UNROUTABLE, PlatformTables

log = get_logger("housekeeping")
BATCH = 2000


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    inbox: int = 0
    idempotency_keys: int = 0
    unfinished_runs: int = 0

    @property
    def total(self) -> int:
        return self.outbox + self.inbox + self.idempotency_keys + self.unfinished_runs


def prune(db: Database, tables: PlatformTables, config, *, now: datetime | None = None) -> Pruned:
    """Delete what is past its retention (see the module's docstring); return how much went."""
    now = now or utcnow()
    Outbox, Inbox, DeadLetter, Key = tables.outbox, tables.inbox, tables.dead_letter, tables.idempotency_key
    outbox = _delete_in_batches(
        db,
        Outbox,
        Outbox.id,
        select(Outbox.id).where(
            Outbox.status.in_((OUTBOX_SENT, OUTBOX_UNROUTABLE)),
            Outbox.sent_at < now - timedelta(hours=config.outbox_retention_hours),
        ),
    )
    awaiting_replay = select(DeadLetter.event_id).where(DeadLetter.status == "dead", DeadLetter.event_id.is_not(None))
    inbox = _delete_in_batches(
        db,
        Inbox,
        Inbox.event_id,
        select(Inbox.event_id).where(
            Inbox.handled_at < now - timedelta(hours=config.inbox_retention_hours),
            Inbox.event_id.not_in(awaiting_replay),
        ),
    )
    keys = _delete_in_batches(
        db,
        Key,
        Key.key,
        select(Key.key).where(Key.created_at < now - timedelta(hours=config.idempotency_key_ttl_hours)),
    )
    Run = tables.unfinished_run
    runs = _delete_in_batches(
        db,
        Run,
        Run.event_id,
        select(Run.event_id).where(Run.started_at < now - timedelta(hours=config.inbox_retention_hours)),
    )
    pruned = Pruned(outbox=outbox, inbox=inbox, idempotency_keys=keys, unfinished_runs=runs)
    if pruned.total:
        log.info("pruned", outbox=outbox, inbox=inbox, idempotency_keys=keys, unfinished_runs=runs)
    return pruned


def _delete_in_batches(db: Database, entity, column, candidates) -> int:
    """Delete the rows whose ``column`` is among ``candidates``, BATCH at a time; return how many.

    ``column`` need not be unique (an inbox's event id under two consumers, a key under two callers):
    rows sharing a value all meet the same condition, since the condition is evaluated again here.
    """
    condition = candidates.whereclause
    deleted = 0
    while True:
        with db.unit_of_work() as uow:
            values = uow.session.scalars(candidates.limit(BATCH)).all()
            if not values:
                return deleted
            result = uow.session.execute(
                delete(entity).where(column.in_(values), condition).execution_options(synchronize_session=False)
            )
            uow.commit()
        deleted += result.rowcount
        if len(values) < BATCH:
            return deleted
