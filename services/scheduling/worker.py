"""Scheduling's worker: ``python -m services.scheduling.worker`` (outbox relay and event consumer)."""

from shared.messaging.worker import run_worker

from services.scheduling.bootstrap import build_context
from services.scheduling.handlers import HANDLERS


def main() -> None:
    run_worker(build_context(), HANDLERS)


if __name__ == "__main__":
    main()
