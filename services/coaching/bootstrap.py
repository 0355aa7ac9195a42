"""The one place coaching's dependencies are built and wired, once per process."""

from __future__ import annotations

from pathlib import Path

from services.coaching import repository
from services.coaching.config import CoachingConfig
from services.coaching.models import platform
from shared.auth import verifier_from_config
from shared.context import ServiceContext
from shared.db import Database, utcnow
from shared.jurisdictions import JurisdictionRegistry
from shared.messaging.bus import Bus
from shared.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"


def build_context(config: CoachingConfig | None = None) -> ServiceContext:
    config = config or CoachingConfig.from_env()
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
        # "clock": what "now" is for statuses and checks; tests put a controllable one here.
        extra={"bus": bus, "clock": utcnow},
        jurisdictions=JurisdictionRegistry(jurisdiction_codes),
    )


def migrate(config: CoachingConfig) -> None:
    upgrade(MIGRATIONS, config.database_url, config.db_schema)
