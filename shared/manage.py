"""The operations commands every service has: ``migrate`` (its Alembic history) and ``seed`` (reference data)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from shared.logging import configure_logging, get_logger

log = get_logger("manage")


def run(service: str, *, load_config: Callable, build_context: Callable, migrate: Callable,
        load_seed: Callable, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"{service} service operations")
    parser.add_argument("command", choices=["migrate", "seed"])
    args = parser.parse_args(argv)
    config = load_config()
    configure_logging(config.log_level)
    if args.command == "migrate":
        migrate(config)
        log.info("migrated", service=service)
    else:
        ctx = build_context(config)
        with ctx.db.unit_of_work() as uow:
            counts = load_seed(uow.session)
            uow.commit()
        log.info("seed loaded", service=service, **counts)
    return 0
