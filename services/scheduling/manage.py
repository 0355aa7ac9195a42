"""Operations commands: ``python -m services.scheduling.manage migrate|seed``."""

from __future__ import annotations

import argparse

from shared.logging import configure_logging, get_logger

from services.scheduling.bootstrap import build_context, migrate
from services.scheduling.config import SchedulingConfig
from services.scheduling.seed import load_seed

log = get_logger("manage")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scheduling service operations")
    parser.add_argument("command", choices=["migrate", "seed"])
    args = parser.parse_args(argv)
    config = SchedulingConfig.from_env()
    configure_logging(config.log_level)
    if args.command == "migrate":
        migrate(config)
        log.info("migrated", service="scheduling")
    else:
        ctx = build_context(config)
        with ctx.db.unit_of_work() as uow:
            counts = load_seed(uow.session)
            uow.commit()
        log.info("seed loaded", **counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
