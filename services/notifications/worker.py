"""Notifications' worker: ``python -m services.notifications.worker``.

The consumer (events into messages), the outbox relay, and the jobs: write due reminders, send what
the delivery log holds, forget what it no longer needs (hourly).
"""

from __future__ import annotations

from services.notifications.bootstrap import build_context
from services.notifications.handlers import build_batch_handlers, build_handlers
from services.notifications.mail import SmtpMailer
from services.notifications.use_cases.community_notices import CommunityNotices, write_due_call_reminders
from services.notifications.use_cases.digests import write_due_digests
from services.notifications.use_cases.reminders import write_due_reminders
from services.notifications.use_cases.retention import forget_old_messages
from services.notifications.use_cases.sending import send_pending
from services.notifications.webhooks import WebhookPoster
from shared.messaging.worker import run_worker


def main() -> None:
    ctx = build_context()
    config, notifier = ctx.config, ctx.extra["notifier"]
    mailer, poster = SmtpMailer(config), WebhookPoster(config)

    def send_all() -> None:
        while send_pending(ctx.db, config, mailer, poster):
            pass

    run_worker(
        ctx,
        build_handlers(notifier),
        periodic={
            "reminders": (30.0, lambda: write_due_reminders(ctx.db, notifier)),
            "call-reminders": (30.0, lambda: write_due_call_reminders(ctx.db, CommunityNotices(notifier))),
            "digests": (60.0, lambda: write_due_digests(ctx.db, notifier)),
            "sender": (config.send_interval, send_all),
            "retention": (3600.0, lambda: forget_old_messages(ctx.db, config)),
        },
        batch_handlers=build_batch_handlers(notifier),
    )


if __name__ == "__main__":
    main()
