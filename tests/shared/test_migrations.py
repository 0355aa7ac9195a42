"""Each service's Alembic history builds exactly the tables its models declare, on both engines."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.content.bootstrap import MIGRATIONS
from services.content.models import Base
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from services.scheduling.models import Base as SchedulingBase
from shared.db import create_db_engine
from shared.migrations import upgrade

SERVICES = [
    pytest.param(MIGRATIONS, Base.metadata, id="content"),
    pytest.param(SCHEDULING_MIGRATIONS, SchedulingBase.metadata, id="scheduling"),
]


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("migrations,metadata", SERVICES)
def test_migrations_match_models(database, migrations, metadata):
    upgrade(migrations, database["url"], database["schema"])
    upgrade(migrations, database["url"], database["schema"])  # a second run is a no-op
    engine = create_db_engine(database["url"], schema=database["schema"])
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_each_service_keeps_its_tables_in_its_own_schema(database):
    from sqlalchemy import inspect

    upgrade(MIGRATIONS, database["url"], database["schema"])
    engine = create_db_engine(database["url"])
    try:
        tables = set(inspect(engine).get_table_names(schema=database["schema"]))
        assert {"series", "modules", "outbox", "inbox", "dead_letters", "alembic_version"} <= tables
        assert "series" not in inspect(engine).get_table_names(schema="public")
    finally:
        engine.dispose()
