"""Content's worker: ``python -m services.content.worker`` (outbox relay, and the consumer of the Tribes
scheduling adds)."""

from services.content.bootstrap import build_context
from services.content.handlers import HANDLERS
from shared.messaging.worker import run_worker


def main() -> None:
    run_worker(build_context(), HANDLERS)


if __name__ == "__main__":
    main()
