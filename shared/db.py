"""Database engine, declarative base, timestamps and the unit of work every service uses."""

from __future__ import annotations

import functools
import json
import select
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from psycopg.pq import ConnStatus
from sqlalchemy import (
    JSON,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal_column,
    text,
)
from sqlalchemy import Row as Row
from sqlalchemy import select as select_rows
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import IntegrityError as IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared.changes import number_write_transactions

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The names use cases need without writing SQL (their packages may not import SQLAlchemy): the
# unit of work's session, named so beside the training-session model; a result row; the error a
# unique constraint raises on flush. ``Row`` and ``IntegrityError`` are re-exported above.
DbSession = Session

# Execution option of the connections of units of work (see create_db_engine).
WRITES = "unit_of_work_writes"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite stores naive text otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self):
        return datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is UTC:  # PostgreSQL sessions run in UTC (create_db_engine)
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_base() -> type[DeclarativeBase]:
    """A fresh declarative base per service, so each service has its own metadata."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {datetime: UTCDateTime()}

    return Base


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


def create_db_engine(url: str, *, schema: str | None = None, pool_size: int = 5) -> Engine:
    """Build the engine for ``url``.

    SQLite files are shared by an API and its worker, so they run in WAL mode with a busy
    timeout. On PostgreSQL each service keeps its tables in its own schema (``search_path``),
    so one database can hold several services without their tables meeting.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling issues BEGIN late and skips it for reads;
            # take control so every unit of work is one real transaction (see "begin" below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A unit of work takes the write lock at its first statement (IMMEDIATE), waiting its turn
            # (busy timeout). A transaction that read first and wrote later would fail at once
            # ("database is locked") if another process, such as the worker's outbox relay, had
            # committed in between; a busy timeout never helps there. Read sessions stay deferred.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITES) else "BEGIN")

        return engine

    # In UTC, timestamps come back already in the zone the services use, with nothing to convert.
    # Every statement is planned for the values it is run with: psycopg prepares a statement on its
    # fifth run, and PostgreSQL would then settle on a generic plan blind to the values, which for a
    # keyset page cannot see where the cursor is (a national year's deep export pages took 200 to
    # 450 ms with it, 20 to 60 ms without). Preparing still saves the parsing.
    connect_args = {"options": "-ctimezone=UTC -cplan_cache_mode=force_custom_plan"}
    if schema:
        connect_args["options"] += f" -csearch_path={schema}"
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=10,
        pool_recycle=1800,
        # The connection used last is handed out first: its server process has this service's
        # catalog entries and prepared statements warm (a registration batch is written by whichever
        # thread's turn it is, through the pool), and the connections idle longest stay idle. Kept:
        # one keyword, and registrations over HTTP were no slower with it in any round of make bench
        # (faster in most, within a loaded machine's noise).
        pool_use_lifo=True,
    )
    event.listen(engine, "checkout", _discard_if_closed_by_server)
    return engine


def _discard_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """Pessimistic disconnect handling without a round trip (unlike ``pool_pre_ping``'s SELECT 1).

    An idle connection has nothing to read: if its socket is readable, the server has closed it or
    is closing it (a restart, a terminated backend, an idle timeout; it says so before closing).
    Raising DisconnectionError makes the pool discard it and check out a fresh one. Saving the
    ping matters: a registration is five round trips, and the ping would be a sixth.
    """
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return
    if dbapi_connection.closed or pgconn.status != ConnStatus.OK:
        raise DisconnectionError("connection closed")
    readable, _, _ = select.select([pgconn.socket], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed the connection")


def insert_many(
    session: Session,
    runs: Sequence[tuple[Table, Sequence[dict]]],
    *,
    skip_duplicates: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Insert rows into each table given, in one round trip on PostgreSQL.

    For hot paths that write rows and their companions (registrations, their audit entries and
    events; one of each, or a batch of people registering at the same moment). On PostgreSQL each table's rows go as one JSON array, unpacked by the server
    (``json_populate_recordset``) into an INSERT; all but the last table's inserts become
    data-modifying CTEs of the last (one snapshot: give foreign keys their rows in the same call, or
    before). The statement is the same whatever the number of rows, so it is built, converted and
    planned once. Every row of a table has the same columns; give every column a value: ORM
    defaults do not apply here. On SQLite, one ``executemany`` per table.

    ``skip_duplicates`` names, per table, the columns of a unique key on which a row that is already
    there (or earlier in the same call) is left out rather than failing the transaction.
    """
    runs = [(table, rows) for table, rows in runs if rows]
    if not runs:
        return
    keys_of = skip_duplicates or {}
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for table, rows in runs:
            statement = sqlite.insert(table)
            if table.name in keys_of:
                # That key only, as on PostgreSQL (OR IGNORE would also pass over any other constraint).
                statement = statement.on_conflict_do_nothing(index_elements=list(keys_of[table.name]))
            connection.execute(statement, list(rows))
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in runs)
    connection.execute(
        _insert_many_statement(shape, tuple(sorted(keys_of.items()))),
        {f"rows_{n}": json.dumps(rows, default=_json_value) for n, (_table, rows) in enumerate(runs)},
    )


def _json_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value insert_many can send")


@functools.lru_cache(maxsize=64)
def _insert_many_statement(
    shape: tuple[tuple[Table, tuple[str, ...]], ...], unique: tuple[tuple[str, tuple[str, ...]], ...] = ()
):
    """The statement of ``insert_many`` for these tables and columns, built once and then reused."""
    quote = postgresql.dialect().identifier_preparer.format_table
    keys_of = dict(unique)
    inserts = []
    for n, (table, keys) in enumerate(shape):
        # Rows of the table's own type: each JSON field is read as its column's type.
        rows = func.json_populate_recordset(
            literal_column(f"NULL::{quote(table)}"), cast(bindparam(f"rows_{n}", type_=Text), JSON)
        ).table_valued(*keys)
        statement = postgresql.insert(table).from_select(
            keys, select_rows(*(rows.c[key] for key in keys)), include_defaults=False
        )
        if table.name in keys_of:
            statement = statement.on_conflict_do_nothing(index_elements=list(keys_of[table.name]))
        inserts.append(statement)
    *companions, last = inserts
    if not companions:
        return last
    return last.add_cte(*(statement.cte(f"rows_{n}_inserted") for n, statement in enumerate(companions)))


def ensure_schema(engine: Engine, schema: str) -> None:
    """Create the service's PostgreSQL schema if it is missing (no-op on SQLite)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def database_answers(engine: Engine) -> bool:
    """Whether the database runs a trivial query just now: what tells an outage from a failing statement."""
    try:
        ping(engine)
    except Exception:  # refused, dropped, timed out: away, whatever the driver calls it
        return False
    return True


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL (row and advisory locks, SKIP LOCKED), not SQLite."""
    return session.get_bind().dialect.name == "postgresql"


def lock_row(session: Session, row) -> None:
    """Reload ``row`` under a row lock (PostgreSQL), so concurrent changes to it queue up.

    SQLite has no row locks: it runs one writer at a time anyway.
    """
    session.refresh(row, with_for_update=is_postgres(session))


def locking(session: Session, statement, **lock):
    """``statement`` locking the rows it reads until commit (``lock``: ``with_for_update``'s options)
    on PostgreSQL; unchanged on SQLite, which has no row locks and runs one writer at a time anyway."""
    return statement.with_for_update(**lock) if is_postgres(session) else statement


class UnitOfWork:
    """One transaction: everything done through ``session`` commits or rolls back together.

    Used as ``with uow_factory() as uow: ...; uow.commit()``; leaving the block without a
    commit rolls back, so a failure never leaves a partial write.

    A request with an ``Idempotency-Key`` must store its answer in the same transaction as its
    effect, so that a crash can never leave one without the other (``shared.http.idempotency``).
    It calls ``hold_commits`` before the view runs: the view's ``commit`` then keeps its work (it
    releases a savepoint) and its ``rollback`` undoes only what came since its last commit, exactly
    as before, but the transaction ends only after ``stop_holding_commits``, with the answer beside.
    """

    def __init__(self, session_factory: sessionmaker):
        self._session_factory = session_factory
        self.session: Session | None = None
        self._held = None  # the open savepoint while commits are held

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(self, *exc) -> None:
        assert self.session is not None
        self._held = None
        self.session.close()  # rolls back whatever was not committed, and returns the connection

    @property
    def holds_commits(self) -> bool:
        return self._held is not None

    def hold_commits(self) -> None:
        assert self.session is not None and self._held is None
        self._held = self.session.begin_nested()

    def commit(self) -> None:
        assert self.session is not None
        if self._held is None:
            self.session.commit()
            return
        self._held.commit()
        self._held = self.session.begin_nested()

    def rollback(self) -> None:
        assert self.session is not None
        if self._held is None:
            self.session.rollback()
            return
        self._held.rollback()
        self._held = self.session.begin_nested()

    def roll_back_everything(self) -> None:
        """Roll the whole transaction back, what the work committed while commits were held included."""
        assert self.session is not None
        self._held = None
        self.session.rollback()  # the outermost transaction, savepoints and all

    def stop_holding_commits(self) -> None:
        """Undo what came after the work's last commit, and let ``commit`` end the transaction again.

        What the work committed while commits were held is still to be committed: the caller adds
        what belongs beside it and calls ``commit``.
        """
        assert self.session is not None and self._held is not None
        held, self._held = self._held, None
        held.rollback()


class Database:
    """The engine and session factory of one service, built once per process."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 5):
        self.url = url
        self.schema = schema
        self.engine = create_db_engine(url, schema=schema, pool_size=pool_size)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        # Units of work write: on SQLite they begin by taking the write lock (see create_db_engine).
        self._unit_of_work_factory = sessionmaker(
            self.engine.execution_options(**{WRITES: True}), expire_on_commit=False
        )
        number_write_transactions(self.engine, WRITES)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._unit_of_work_factory)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (no commit) for queries."""
        with self.session_factory() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
