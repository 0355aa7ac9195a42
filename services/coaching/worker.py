"""Coaching's worker: ``python -m services.coaching.worker`` (outbox relay, consumer, scheduled checks)."""

from services.coaching.bootstrap import build_context
from services.coaching.handlers import HANDLERS
from services.coaching.use_cases.checks import run_checks
from shared.messaging.worker import run_worker


def main() -> None:
    ctx = build_context()
    clock = ctx.extra["clock"]
    checks = (ctx.config.check_interval_seconds, lambda: run_checks(ctx.db, clock().date()))
    run_worker(ctx, HANDLERS, periodic={"coaching-checks": checks})


if __name__ == "__main__":
    main()
