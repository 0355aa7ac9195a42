"""Operations commands: ``python -m services.coaching.manage migrate|seed|check|backfill --from URL``."""

from __future__ import annotations

import sys

from services.coaching.bootstrap import build_context, migrate
from services.coaching.config import CoachingConfig
from services.coaching.seed import load_seed
from shared import manage


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["backfill"]:
        from services.coaching.backfill import main as backfill

        return backfill(argv[1:])
    if argv[:1] == ["check"]:
        from services.coaching.use_cases.checks import run_checks

        ctx = build_context()
        print(run_checks(ctx.db, ctx.extra["clock"]().date()))
        return 0
    return manage.run(
        "coaching",
        load_config=CoachingConfig.from_env,
        build_context=build_context,
        migrate=migrate,
        load_seed=load_seed,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
