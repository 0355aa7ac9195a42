"""The operations commands every service has: ``migrate`` (its Alembic history) and ``seed`` (reference data),
and a service's own."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from shared.logging import configure_logging, get_logger

log = get_logger("manage")


def run(
    service: str,
    *,
    load_config: Callable,
    build_context: Callable,
    migrate: Callable,
    load_seed: Callable,
    argv: list[str] | None = None,
    commands: dict[str, Callable[[object], dict]] | None = None,
) -> int:
    """Run one command; ``commands`` adds a service's own (``{name: job(uow) -> counts to log}``)."""
    commands = commands or {}
    parser = argparse.ArgumentParser(description=f"{service} service operations")
    parser.add_argument("command", choices=["migrate", "seed", *commands])
    args = parser.parse_args(argv)
    config = load_config()
    configure_logging(config.log_level)
    if args.command == "migrate":
        migrate(config)
        log.info("migrated", service=service)
        return 0
    ctx = build_context(config)
    with ctx.db.unit_of_work() as uow:
        if args.command == "seed":
            counts = load_seed(uow.session)
            uow.commit()
            log.info("seed loaded", service=service, **counts)
        else:
            counts = commands[args.command](uow)  # a use case: it commits its own work
            log.info(args.command, service=service, **counts)
    return 0
