"""Fixtures of the scheduling service: a migrated, seeded database and its app."""

from __future__ import annotations

import pytest

from tests.conftest import config_overrides, migrated_context


@pytest.fixture
def scheduling_ctx(database, broker, signing_key_file, tmp_path):
    from services.scheduling.config import SchedulingConfig

    ctx = migrated_context(
        "scheduling", SchedulingConfig, config_overrides(database, broker, signing_key_file, tmp_path)
    )
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
