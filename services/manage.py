"""Several services' operations commands in one process: ``python -m services.manage migrate seed``.

`make seed` (and so `make run`) brings every service's database up to date and loads its reference
data. Each service's own ``python -m services.<service>.manage`` does it for one service, as a
deployment's migration job runs it; run as eight processes, most of `make seed`'s time went to starting
Python and importing the same libraries eight times. This runs each command for each service in turn,
in one process, with each service's own configuration and code: nothing here migrates or seeds anything
itself.
"""

from __future__ import annotations

import argparse
import importlib

SERVICES = ("content", "scheduling", "notifications", "coaching")
COMMANDS = ("migrate", "seed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="every service's migrations and seed, in one process")
    parser.add_argument("commands", nargs="+", choices=COMMANDS, help="run in this order, each for every service")
    parser.add_argument(
        "--service",
        dest="services",
        action="append",
        choices=SERVICES,
        help="only this service (repeat for several); every service by default",
    )
    args = parser.parse_args(argv)
    services = args.services or list(SERVICES)
    for command in args.commands:
        for service in services:
            # By name: this module is the one place that runs several services' commands, and each
            # service's code stays its own (services never import each other).
            code = importlib.import_module(f"services.{service}.manage").main([command])
            if code:
                return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
