"""Operations commands: ``python -m services.content.manage migrate|seed``."""

from services.content.bootstrap import build_context, migrate
from services.content.config import ContentConfig
from services.content.seed import load_seed
from shared import manage


def main(argv: list[str] | None = None) -> int:
    return manage.run(
        "content",
        load_config=ContentConfig.from_env,
        build_context=build_context,
        migrate=migrate,
        load_seed=load_seed,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
