"""Alembic, one history per service: upgrade from code (make run, tests, the deploy job) and env.py's body."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.db import create_db_engine, ensure_schema


def alembic_config(migrations_dir: Path, database_url: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["db_schema"] = schema
    return cfg


def upgrade(migrations_dir: Path, database_url: str, schema: str, revision: str = "head") -> None:
    """Bring the service's database to ``revision`` (creating its PostgreSQL schema first)."""
    engine = create_db_engine(database_url, schema=schema, pool_size=1)
    try:
        ensure_schema(engine, schema)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(migrations_dir, database_url, schema), revision)


def run_env(context, target_metadata) -> None:
    """The whole of a service's migrations/env.py: online migrations on the configured URL."""
    attrs = context.config.attributes
    url = attrs.get("database_url") or context.config.get_main_option("sqlalchemy.url")
    schema = attrs.get("db_schema")
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=url.startswith("sqlite")
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(url, schema=schema, pool_size=1)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# --- steps of the platform tables (shared/tables.py), which every service's history carries ---------


def add_inbox_handled_at_index(op) -> None:
    """The inbox indexed by when each event was handled, for housekeeping to prune by age."""
    op.create_index("ix_inbox_handled_at", "inbox", ["handled_at"], unique=False)


def drop_inbox_handled_at_index(op) -> None:
    op.drop_index("ix_inbox_handled_at", table_name="inbox")


def add_unfinished_runs(op) -> None:
    """The consumer's count of handler runs of redelivered events that never finished."""
    import sqlalchemy as sa

    from shared.db import UTCDateTime

    op.create_table(
        "unfinished_runs",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_unfinished_runs")),
    )


def drop_unfinished_runs(op) -> None:
    op.drop_table("unfinished_runs")
