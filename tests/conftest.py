"""Fixtures shared by every test: backends (SQLite, PostgreSQL), brokers, tokens, the content app."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from shared.testing import (
    AUDIENCE,
    ISSUER,
    Tokens,
    drop_pg_schema,
    require_postgres,
    require_rabbitmq,
    unique_name,
)


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
    """A fresh, empty database: {'url', 'schema'} for SQLite or an isolated PostgreSQL schema."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        url = require_postgres()
        schema = unique_name("test")
        yield {"url": url, "schema": schema, "backend": backend}
        drop_pg_schema(schema)
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

    On SQLite the database is a copy of one migrated and seeded once per test session (per service):
    copying a file is far quicker than running every migration again for each of several hundred tests.
    """
    import importlib

    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    seed = importlib.import_module(f"services.{service}.seed")
    config = config_cls.from_env(**overrides)
    if config.database_url.startswith("sqlite:///"):
        shutil.copyfile(_sqlite_template(service, config_cls, overrides), config.database_url[len("sqlite:///") :])
        return bootstrap.build_context(config)
    return _migrate_and_seed(bootstrap, seed, config)


def _migrate_and_seed(bootstrap, seed, config):
    bootstrap.migrate(config)
    ctx = bootstrap.build_context(config)
    with ctx.db.unit_of_work() as uow:
        seed.load_seed(uow.session)
        uow.commit()
    return ctx


_SQLITE_TEMPLATES: dict[str, str] = {}


def _sqlite_template(service: str, config_cls, overrides: dict) -> str:
    """The path of this session's migrated and seeded SQLite database of ``service``, made on first use."""
    import importlib

    if service not in _SQLITE_TEMPLATES:
        path = Path(tempfile.mkdtemp(prefix=f"{service}-template-")) / "service.db"
        config = config_cls.from_env(**{**overrides, "database_url": f"sqlite:///{path}"})
        ctx = _migrate_and_seed(
            importlib.import_module(f"services.{service}.bootstrap"),
            importlib.import_module(f"services.{service}.seed"),
            config,
        )
        with ctx.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
        ctx.db.dispose()
        _SQLITE_TEMPLATES[service] = str(path)
    return _SQLITE_TEMPLATES[service]


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
