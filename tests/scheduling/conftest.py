"""Fixtures of the scheduling service: a migrated, seeded database and its app."""

from __future__ import annotations

import pytest

from tests.conftest import config_overrides


@pytest.fixture
def scheduling_ctx(database, broker, signing_key_file, tmp_path):
    from services.scheduling.bootstrap import build_context, migrate
    from services.scheduling.config import SchedulingConfig
    from services.scheduling.seed import load_seed

    config = SchedulingConfig.from_env(**config_overrides(database, broker, signing_key_file, tmp_path))
    migrate(config)
    ctx = build_context(config)
    with ctx.db.unit_of_work() as uow:
        load_seed(uow.session)
        uow.commit()
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def scheduling_app(scheduling_ctx):
    from services.scheduling.app import create_app

    app = create_app(scheduling_ctx)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def sclient(scheduling_app):
    return scheduling_app.test_client()
