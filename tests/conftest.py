"""Fixtures shared by every test: backends (SQLite, PostgreSQL), brokers, tokens, the content app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.testing import (
    AUDIENCE,
    ISSUER,
    Tokens,
    require_postgres,
    require_rabbitmq,
    unique_name,
)

# --- tiers and markers (docs/testing.md) -------------------------------------------------------------
# Applied here from where a test lives and what it uses, never by hand on each test: a test that
# runs on the PostgreSQL or RabbitMQ variant of the `database`/`broker` fixtures is marked so, and every
# test gets exactly one tier. A module may still say its tier itself (`pytestmark = pytest.mark.e2e`).
TIERS = ("unit", "integration", "e2e")
TIER_OF_FOLDER = {"unit": "unit", "e2e": "e2e", "deploy": "integration"}  # tests/<folder>/…
# Elsewhere the fixtures a test uses (directly or through others) decide: these start processes as
# deployed (e2e); these touch a database, a broker or files (integration); none of them: unit.
E2E_FIXTURES = {"served", "platform", "browser"}  # gunicorn alone; `make run`'s processes; a browser
IO_FIXTURES = {"database", "broker", "tmp_path", "tmp_path_factory"}
# Run one at a time in one xdist group (`--dist loadgroup`), never beside each other: e2e tests start
# whole platforms, these measure timing under concurrency (many writers against a deadline, change
# markers waiting for the server's older transactions) or time the bench's own tools.
SERIAL_MODULES = {
    "scheduling/test_registration_concurrency.py",
    "scheduling/test_incremental_sync.py",
    "content/test_incremental_sync.py",
    "scheduling/test_bench_tools.py",
}


@pytest.hookimpl(wrapper=True)  # around xdist's own hook: marks before it reads them, its renaming checked after
def pytest_collection_modifyitems(config, items):
    tests_root = Path(__file__).parent
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("database") == "postgres" and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)
        if params.get("broker") == "rabbitmq" and not item.get_closest_marker("rabbitmq"):
            item.add_marker(pytest.mark.rabbitmq)
        where = item.path.relative_to(tests_root).as_posix() if item.path.is_relative_to(tests_root) else ""
        tier = _tier(item, where.split("/")[0])
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))
        if tier == "e2e" or where in SERIAL_MODULES or item.get_closest_marker("serial"):
            item.add_marker(pytest.mark.serial)
            if config.pluginmanager.hasplugin("xdist"):
                item.add_marker(pytest.mark.xdist_group("serial"))
    result = yield
    _name_xdist_groups(config, items)
    return result


def _name_xdist_groups(config, items) -> None:
    """Give each grouped test the ``@<group>`` suffix that ``--dist loadgroup`` schedules by, on a worker.

    xdist 3.8 appends it by assigning ``item._nodeid``, which pytest 9 no longer reads (a node keeps its
    id as a structured ``_id``): the suffix was silently lost, and every group ran spread over all the
    workers. Where xdist's own renaming took, this changes nothing.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    for item in items:
        groups = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        suffix = "@" + "_".join(groups)
        if not groups or item.nodeid.endswith(suffix):
            continue
        if hasattr(item, "_id"):
            from _pytest.nodeid import NodeId  # pytest 9's node ids; parse keeps the text as given

            item._id = NodeId.parse(item.nodeid + suffix)
        else:
            item._nodeid = item.nodeid + suffix


def _tier(item, folder: str) -> str:
    for tier in TIERS:
        if item.get_closest_marker(tier):
            return tier
    fixtures = set(getattr(item, "fixturenames", ()))
    if folder in TIER_OF_FOLDER:
        return TIER_OF_FOLDER[folder]
    if E2E_FIXTURES & fixtures:
        return "e2e"
    if item.get_closest_marker("postgres") or item.get_closest_marker("rabbitmq") or IO_FIXTURES & fixtures:
        return "integration"
    return "unit"


def pytest_sessionfinish(session, exitstatus):
    from tests import templates

    templates.finish()  # the per-test PostgreSQL databases still being dropped


CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright drives it, it never downloads a browser


@pytest.fixture(scope="session")
def browser():
    """Chromium for the tests of pages (the portal's, the development mailbox)."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def tokens(tmp_path_factory) -> Tokens:
    return Tokens()


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory, tokens) -> str:
    path = tmp_path_factory.mktemp("keys") / "signing.pem"
    path.write_bytes(tokens.private_pem)
    return str(path)


@pytest.fixture
def database(request, tmp_path):
    """A fresh, empty database: {'url', 'schema'}: a SQLite file or a PostgreSQL database of the test's own."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        from tests import templates

        require_postgres()
        url = templates.create_test_database()  # a database of the test's own, dropped after it
        yield {"url": url, "schema": unique_name("test"), "backend": backend}
        templates.drop_database(url)
    else:
        yield {"url": f"sqlite:///{tmp_path / 'service.db'}", "schema": "main", "backend": backend}


@pytest.fixture
def broker(request, tmp_path):
    """A broker: {'url', 'folder', 'namespace'}; RabbitMQ tests get their own name prefix."""
    kind = getattr(request, "param", "filesystem")
    if kind == "rabbitmq":
        url = require_rabbitmq()
        namespace = unique_name("t") + "."
        yield {"url": url, "folder": "", "namespace": namespace, "kind": kind}
        from tests.helpers import delete_namespace

        delete_namespace(url, namespace)
    else:
        yield {"url": "filesystem://", "folder": str(tmp_path / "broker"), "namespace": "", "kind": kind}


def config_overrides(database, broker, signing_key_file, tmp_path) -> dict:
    return dict(
        database_url=database["url"],
        db_schema=database["schema"],
        broker_url=broker["url"],
        broker_folder=broker["folder"],
        broker_namespace=broker["namespace"],
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_jwks_url="",
        jwt_public_key_file="",
        jwt_dev_private_key_file=signing_key_file,
        retry_delays=(0.2, 0.4),
        relay_poll_interval=0.02,
        log_level="WARNING",
    )


def migrated_context(service: str, config_cls, overrides: dict):
    """A service's context on a migrated database with its seed data loaded.

    The database is a copy of a template migrated and seeded once (tests/templates.py): a SQLite file
    copied per test, or on PostgreSQL ``CREATE DATABASE … TEMPLATE``, far quicker than running every
    migration again for each of several hundred tests. Tests of the migrations themselves call
    ``shared.migrations.upgrade`` on the ``database`` fixture instead.
    """
    from tests import templates

    bootstrap, _seed = templates._modules(service)
    config = config_cls.from_env(**overrides)
    if config.database_url.startswith("sqlite:///"):
        templates.copy_sqlite_template(service, config_cls, overrides, config.database_url)
        return bootstrap.build_context(config)
    if templates.clone_into(service, config_cls, overrides, config):
        return bootstrap.build_context(config)
    return templates.migrate_and_seed(service, config)


@pytest.fixture
def content_ctx(database, broker, signing_key_file, tmp_path):
    """The content service's context on a migrated, seeded database."""
    from services.content.config import ContentConfig

    ctx = migrated_context(
        "content",
        ContentConfig,
        dict(storage_dir=str(tmp_path / "files"), **config_overrides(database, broker, signing_key_file, tmp_path)),
    )
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def content_app(content_ctx):
    from services.content.app import create_app

    app = create_app(content_ctx)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(content_app):
    return content_app.test_client()
