"""Operations commands: ``python -m services.scheduling.manage migrate|seed|announce-tribes``."""

from services.scheduling.bootstrap import build_context, migrate
from services.scheduling.config import SchedulingConfig
from services.scheduling.seed import load_seed
from services.scheduling.use_cases.agencies import announce_tribes
from shared import manage


def main(argv: list[str] | None = None) -> int:
    return manage.run(
        "scheduling",
        load_config=SchedulingConfig.from_env,
        build_context=build_context,
        migrate=migrate,
        load_seed=load_seed,
        argv=argv,
        commands={"announce-tribes": lambda uow: {"tribes_announced": announce_tribes(uow)}},
    )


if __name__ == "__main__":
    raise SystemExit(main())
