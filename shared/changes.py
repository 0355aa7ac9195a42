"""Change markers: what makes incremental sync lossless (``changed_after`` on every list a state system syncs).

A timestamp taken inside a transaction does not follow commit order: a transaction that commits late
carries an earlier ``updated_at`` than rows a client has already read, and a client that remembers
the newest time it saw misses it for good. Each row a state system syncs therefore carries a
*change marker* (``change``), written with the row, and a list hands out only the rows whose marker
can no longer be overtaken:

- PostgreSQL: the marker is the id of the writing transaction (``pg_current_xact_id()``, 64 bits,
  never reused). Ids are handed out in increasing order but commit in any order, so a list holds
  back every row at or above the oldest transaction still in flight that may write the service's
  tables (from a snapshot taken just before the page is read, ``pg_current_snapshot()``; see
  ``_HORIZON``): below it every such transaction has ended, and whatever a later transaction writes
  gets a larger id, so a page read in a later snapshot finds nothing new below it either.
- SQLite: writers take the write lock at their start (``BEGIN IMMEDIATE``) and so run one after
  another; each write transaction first adds one to a counter (``change_counter``) and marks its
  rows with the counter's value. Markers then follow commit order and nothing needs holding back.

A client remembers the largest marker it has been given and asks for what is greater (docs/api.md).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import BigInteger, Integer, event, exc, literal, text, true
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

COUNTER_TABLE = "change_counter"


class ChangeMarker(FunctionElement):
    """The change marker of the current write transaction, as SQL (see the module's docstring)."""

    type = BigInteger()
    inherit_cache = True
    name = "change_marker"


@compiles(ChangeMarker, "postgresql")
def _marker_postgresql(_element, _compiler, **_kw):
    return "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)"


@compiles(ChangeMarker, "sqlite")
def _marker_sqlite(_element, _compiler, **_kw):
    return f"(SELECT value FROM {COUNTER_TABLE})"


# The default PostgreSQL gives the column for rows inserted without it (``insert_many``'s JSON rows).
POSTGRESQL_DEFAULT = "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)"


class ChangeMixin:
    """A synced row's change marker, set on every insert and every update of the row."""

    change: Mapped[int] = mapped_column(BigInteger, default=ChangeMarker(), onupdate=ChangeMarker(), index=True)


def define_change_counter(Base) -> type:
    """Declare, on a service's own base, the one-row counter that numbers SQLite's write transactions."""

    class ChangeCounter(Base):
        """The marker of the last write transaction (SQLite only; unused on PostgreSQL)."""

        __tablename__ = COUNTER_TABLE

        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        value: Mapped[int] = mapped_column(BigInteger, default=0)

    return ChangeCounter


# The oldest transaction still in flight (in the statement's own snapshot) that may write this service's
# tables. Every transaction of the snapshot counts but those that, in one read of the lock table,
# hold their transaction id and no lock on any table of the service's schema: a service's
# transaction reads its own tables before it writes (and holds those locks until it ends), and
# services never touch each other's schemas, so a transaction stuck in another service or database
# does not hold this one's lists back. One that ended between the snapshot and the read counts, to
# be safe. Without any, the snapshot's xmax: every id below it has been handed out and has ended.
# The transactions holding a lock here are found in one pass over the lock table (``here``), so the
# cost grows with the number of locks, not with locks times transactions: on a busy cluster (700
# locks, 28 transactions in flight) the per-transaction form took 420 ms of every page.
_HORIZON = """(WITH locks AS MATERIALIZED (
    SELECT locktype, mode, granted, transactionid, virtualtransaction, database, relation FROM pg_locks),
  here AS MATERIALIZED (
    SELECT DISTINCT held.virtualtransaction FROM locks AS held JOIN pg_class AS c ON c.oid = held.relation
    WHERE held.locktype = 'relation'
      AND held.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND c.relnamespace = CAST(current_schema() AS regnamespace)),
  elsewhere AS (
    SELECT CAST(CAST(owner.transactionid AS TEXT) AS BIGINT) AS xid FROM locks AS owner
    WHERE owner.locktype = 'transactionid' AND owner.mode = 'ExclusiveLock' AND owner.granted
      AND owner.virtualtransaction NOT IN (SELECT virtualtransaction FROM here))
  SELECT COALESCE(MIN(CAST(CAST(x AS TEXT) AS BIGINT)),
                  CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT))
  FROM pg_snapshot_xip(pg_current_snapshot()) AS x
  WHERE CAST(CAST(x AS TEXT) AS BIGINT) % 4294967296 NOT IN (SELECT xid FROM elsewhere))"""


def horizon(session) -> int | None:
    """The marker below which every change is settled (PostgreSQL); None on SQLite, where all are.

    Read in a statement of its own and given to the page's query as a value: as a subquery, its
    value is unknown when the page is planned, and the planner's guess for ``change < (subquery)``
    led it, on a national year, to an index that read whole runs of equal markers for every page.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.execute(text(f"SELECT {_HORIZON}")).scalar_one()


def settled(column, below: int | None) -> ColumnElement:
    """Rows whose marker no transaction still in flight can come in under (``below`` from ``horizon``)."""
    if below is None:
        return true()
    return column < literal(below, type_=BigInteger)


def number_write_transactions(engine: Engine, writes_option: str) -> None:
    """On SQLite, give each write transaction the next marker as soon as it holds the write lock."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "begin")
    def _next_marker(conn):
        if not conn.get_execution_options().get(writes_option):
            return
        try:
            conn.exec_driver_sql(f"UPDATE {COUNTER_TABLE} SET value = value + 1")
        except exc.OperationalError as error:
            # A database not migrated yet (or migrating) has no counter and no synced rows to mark.
            if not isinstance(error.orig, sqlite3.OperationalError) or "no such table" not in str(error.orig):
                raise


def add_change_markers(op, tables: tuple[str, ...]) -> None:
    """Migration step: the counter, and a ``change`` column with its index on each of ``tables``."""
    import sqlalchemy as sa

    postgresql = op.get_bind().dialect.name == "postgresql"
    counter = op.create_table(
        COUNTER_TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{COUNTER_TABLE}"),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 1}])
    for table in tables:
        # PostgreSQL: rows inserted without a marker get their transaction's; SQLite wants a constant.
        default = sa.text(POSTGRESQL_DEFAULT) if postgresql else sa.text("1")
        op.add_column(table, sa.Column("change", sa.BigInteger(), nullable=False, server_default=default))
        op.create_index(f"ix_{table}_change", table, ["change"], unique=False)


def drop_change_markers(op, tables: tuple[str, ...]) -> None:
    """Migration step: undo ``add_change_markers``."""
    for table in tables:
        op.drop_index(f"ix_{table}_change", table_name=table)
        # Plain ALTER on both engines (SQLite 3.35+): a batch copy of a table would trip its foreign keys.
        op.execute(f'ALTER TABLE {table} DROP COLUMN "change"')
    op.drop_table(COUNTER_TABLE)
