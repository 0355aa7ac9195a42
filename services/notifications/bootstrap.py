"""The one place notifications' dependencies are built and wired, once per process."""

from __future__ import annotations

from pathlib import Path

from services.notifications import repository
from services.notifications.config import NotificationsConfig
from services.notifications.models import platform
from services.notifications.use_cases.notify import Notifier
from shared.auth import verifier_from_config
from shared.context import ServiceContext
from shared.db import Database
from shared.jurisdictions import JurisdictionRegistry
from shared.messaging.bus import Bus
from shared.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"


def build_context(config: NotificationsConfig | None = None) -> ServiceContext:
    config = config or NotificationsConfig.from_env()
    db = Database(config.database_url, schema=config.db_schema)

    def jurisdiction_codes() -> list[str]:
        with db.session() as session:
            return repository.jurisdiction_codes(session)

    bus = Bus.from_config(config)
    return ServiceContext(
        config=config,
        db=db,
        tables=platform,
        verifier=verifier_from_config(config),
        broker_check=bus.check,
        extra={"bus": bus, "notifier": Notifier(config)},
        jurisdictions=JurisdictionRegistry(jurisdiction_codes),
    )


def migrate(config: NotificationsConfig) -> None:
    upgrade(MIGRATIONS, config.database_url, config.db_schema)
