"""Notifications' consumer run as its own process, for a test to kill: ``python -m tests.notifications.consumer_process JSON``.

``... JSON batch`` runs it with its batches (``consumer_batch_size`` from the settings) instead of one by one.
"""

from __future__ import annotations

import json
import sys
import time

from services.notifications.bootstrap import build_context
from services.notifications.config import NotificationsConfig
from services.notifications.handlers import build_batch_handlers, build_handlers
from shared.messaging.consumer import EventConsumer


def main(overrides: dict, batch: bool = False) -> None:
    overrides["retry_delays"] = tuple(overrides["retry_delays"])
    ctx = build_context(NotificationsConfig.from_env(**overrides))
    handlers = build_handlers(ctx.extra["notifier"])
    notify = handlers["notify"]

    def slow_notify(event, uow) -> None:
        notify(event, uow)
        time.sleep(0.01)  # a batch in flight long enough to be killed in the middle of it

    handlers["notify"] = slow_notify
    if not batch:
        EventConsumer(ctx.extra["bus"], ctx.db, ctx.tables, "notifications", handlers, prefetch=20).run()
        return
    notify_many = build_batch_handlers(ctx.extra["notifier"])["notify"]

    def slow_notify_many(events, uow) -> None:
        notify_many(events, uow)
        time.sleep(0.01 * len(events))  # as slow per event as one by one: a batch to kill in the middle

    EventConsumer(
        ctx.extra["bus"],
        ctx.db,
        ctx.tables,
        "notifications",
        handlers,
        prefetch=20,
        batch_size=ctx.config.consumer_batch_size,
        batch_handlers={"notify": slow_notify_many},
    ).run()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), batch=sys.argv[2:] == ["batch"])
