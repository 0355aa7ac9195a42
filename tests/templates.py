"""Migrated, seeded template databases: a service's Alembic history runs once, each test gets a copy.

A service plugs in by convention, with nothing to register: ``services/<name>/bootstrap.py`` has
``migrate(config)`` and ``build_context(config)``, and ``services/<name>/seed.py`` (optional) has
``load_seed(session)``. What the template is built from is hashed (``TEMPLATE_INPUTS`` below: the
service's migrations, models, seed and seed data, and the platform tables and reference data every
history carries), so a changed migration or seed gives a new template on the next run.

- SQLite: one file per service per test process, migrated and seeded on first use, copied per test.
- PostgreSQL: one database per service and inputs' hash (``t4t_tmpl_<service>_<hash>``), built once
  under an advisory lock (parallel workers and checkouts share it) and kept on the server. The
  ``database`` fixture gives each test an empty database of its own; ``clone_into`` replaces it by
  ``CREATE DATABASE … TEMPLATE`` and renames the template's schema to the one the test asked for.
  Databases are dropped by a background thread as tests finish, and the rest when the run ends.
"""

from __future__ import annotations

import hashlib
import importlib
import queue
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.testing import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]

# What a service's template is made of, relative to services/<name>/ (first) and to the repository.
SERVICE_INPUTS = ("migrations", "models.py", "models", "seed.py", "seed_data")
PLATFORM_INPUTS = (
    "shared/migrations.py",
    "shared/tables.py",
    "shared/changes.py",
    "shared/db.py",
    "shared/jurisdictions.py",
    "shared/data",
)
# A service whose seed reads anything else names it here, e.g. {"coaching": ("shared/rubrics.py",)}.
TEMPLATE_INPUTS: dict[str, tuple[str, ...]] = {}


def inputs_hash(service: str) -> str:
    """A digest of every file the service's template is built from (paths and contents)."""
    digest = hashlib.sha256()
    roots = [ROOT / "services" / service / name for name in SERVICE_INPUTS]
    roots += [ROOT / name for name in PLATFORM_INPUTS + TEMPLATE_INPUTS.get(service, ())]
    for root in roots:
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.exists() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _modules(service: str):
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    try:
        seed = importlib.import_module(f"services.{service}.seed")
    except ModuleNotFoundError:
        seed = None
    return bootstrap, seed


def migrate_and_seed(service: str, config):
    """Run the service's whole history and its seed on ``config``'s database; its context."""
    bootstrap, seed = _modules(service)
    bootstrap.migrate(config)
    ctx = bootstrap.build_context(config)
    if seed is not None:
        with ctx.db.unit_of_work() as uow:
            seed.load_seed(uow.session)
            uow.commit()
    return ctx


def _quiet_overrides(overrides: dict, **more) -> dict:
    """The caller's settings, on a broker of the template's own: building a template publishes nothing."""
    folder = tempfile.mkdtemp(prefix="template-broker-")
    return {**overrides, "broker_url": "filesystem://", "broker_folder": folder, "broker_namespace": "", **more}


# --- SQLite ----------------------------------------------------------------------------------------

_SQLITE_TEMPLATES: dict[str, str] = {}


def sqlite_template(service: str, config_cls, overrides: dict) -> str:
    """The path of this process's migrated and seeded SQLite database of ``service``, made on first use."""
    if service not in _SQLITE_TEMPLATES:
        path = Path(tempfile.mkdtemp(prefix=f"{service}-template-")) / "service.db"
        config = config_cls.from_env(**_quiet_overrides(overrides, database_url=f"sqlite:///{path}"))
        ctx = migrate_and_seed(service, config)
        with ctx.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
        ctx.db.dispose()
        _SQLITE_TEMPLATES[service] = str(path)
    return _SQLITE_TEMPLATES[service]


def copy_sqlite_template(service: str, config_cls, overrides: dict, database_url: str) -> None:
    shutil.copyfile(sqlite_template(service, config_cls, overrides), database_url[len("sqlite:///") :])


# --- PostgreSQL ------------------------------------------------------------------------------------

_FRESH: set[str] = set()  # per-test databases created empty here and not used yet
_PG_TEMPLATES: dict[str, str] = {}


class _Admin:
    """Plain psycopg connections (autocommit) to the test server's maintenance database.

    Not SQLAlchemy: the dropper's thread runs beside the test, and a test may listen to every engine's
    statements (the bench's SQL capture); these must never show up there.
    """

    def connect(self):
        import psycopg

        url = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(url, autocommit=True)


def admin() -> _Admin:
    return _Admin()


def database_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create_test_database() -> str:
    """An empty database of the test's own (unique across xdist workers and checkouts); its URL."""
    name = f"t4t_test_{uuid.uuid4().hex[:16]}"
    with admin().connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _FRESH.add(name)
    return database_url(name)


def pg_template(service: str, config_cls, overrides: dict) -> str:
    """The name of the service's template database for the current inputs, built if missing."""
    if service in _PG_TEMPLATES:
        return _PG_TEMPLATES[service]
    name = f"t4t_tmpl_{service}_{inputs_hash(service)}"
    with admin().connect() as conn:
        # One builder at a time across workers and checkouts; the others wait, then find it built.
        conn.execute("SELECT pg_advisory_lock(hashtext(%(n)s))", {"n": name})
        try:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).fetchone():
                building = f"t4t_build_{service}_{inputs_hash(service)}"
                conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')  # a build cut short
                conn.execute(f'CREATE DATABASE "{building}"')
                config = config_cls.from_env(
                    **_quiet_overrides(overrides, database_url=database_url(building), db_schema=service)
                )
                ctx = migrate_and_seed(service, config)
                ctx.db.dispose()
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(n)s", {"n": building}
                )
                # Renamed only once complete: a template that exists is a whole one.
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%(n)s))", {"n": name})
    _PG_TEMPLATES[service] = name
    return name


def clone_into(service: str, config_cls, overrides: dict, config) -> bool:
    """Make ``config``'s database a copy of the service's template, schema renamed to ``config.db_schema``.

    Only an untouched per-test database from ``create_test_database`` is replaced; anything else (a
    second service in the same database, a database the test made itself) returns False and the
    caller runs the history instead.
    """
    name = make_url(config.database_url).database
    if name not in _FRESH:
        return False
    _FRESH.discard(name)
    template = pg_template(service, config_cls, overrides)
    unused = f"t4t_drop_{uuid.uuid4().hex[:16]}"
    with admin().connect() as conn:
        try:
            conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{unused}"')  # refused if someone is connected
        except Exception:  # noqa: BLE001 - the test already uses it: keep it and migrate it in place
            return False
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    drop_database(unused)
    if config.db_schema != service:
        engine = create_engine(config.database_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
        with engine.connect() as conn:
            conn.execute(text(f'ALTER SCHEMA "{service}" RENAME TO "{config.db_schema}"'))
        engine.dispose()
    return True


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


class _Dropper:
    """Drops finished tests' databases on a thread of its own, so that no test waits for it."""

    def __init__(self):
        self.names: queue.Queue[str | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def put(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
            self.thread.start()
        self.names.put(name)

    def _run(self) -> None:
        while (name := self.names.get()) is not None:
            try:
                with admin().connect() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # noqa: BLE001 - retried by finish(); a leftover is only disk space
                _LEFT.append(name)

    def finish(self) -> None:
        if self.thread is not None:
            self.names.put(None)
            self.thread.join()
            self.thread = None
        while _LEFT:
            with admin().connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{_LEFT.pop()}" WITH (FORCE)')


_LEFT: list[str] = []
_dropper = _Dropper()


def drop_database(url_or_name: str) -> None:
    """Drop a per-test database soon (on the dropper's thread); ``finish()`` waits for all of them."""
    name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
    _FRESH.discard(name)
    _dropper.put(name)


def finish() -> None:
    """At the end of the run: every per-test database of this process dropped, connections closed."""
    _dropper.finish()
