"""Operations commands: ``python -m services.notifications.manage migrate|seed``."""

from services.notifications.bootstrap import build_context, migrate
from services.notifications.config import NotificationsConfig
from services.notifications.seed import load_seed
from shared import manage


def main(argv: list[str] | None = None) -> int:
    return manage.run(
        "notifications",
        load_config=NotificationsConfig.from_env,
        build_context=build_context,
        migrate=migrate,
        load_seed=load_seed,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
