"""Scheduling's worker: ``python -m services.scheduling.worker`` (outbox relay, event consumer, and
the periodic hand-on of seats a failed registration left free)."""

from services.scheduling.bootstrap import build_context
from services.scheduling.handlers import HANDLERS
from services.scheduling.use_cases.registrations import hand_on_all_free_seats
from shared.messaging.worker import run_worker

# How often the worker looks for seats left free while people wait (a few a day, at most).
FREE_SEATS_EVERY_SECONDS = 30.0


def main() -> None:
    ctx = build_context()
    run_worker(
        ctx,
        HANDLERS,
        periodic={"hand-on-free-seats": (FREE_SEATS_EVERY_SECONDS, lambda: hand_on_all_free_seats(ctx.db))},
    )


if __name__ == "__main__":
    main()
