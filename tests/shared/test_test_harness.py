"""The suite's own machinery: tiers and markers applied from folders and fixtures, PostgreSQL tests on
copies of a template migrated once, per-test databases dropped."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, func, select, text

from services.content.models import Module
from tests import templates

TIERS = ("unit", "integration", "e2e")


def markers(item) -> set[str]:
    return {mark.name for mark in item.iter_markers()}


def test_every_collected_test_has_exactly_one_tier(request):
    for item in request.session.items:
        assert len(markers(item) & set(TIERS)) == 1, item.nodeid


def test_folders_give_the_tier_and_processes_as_deployed_run_serially(request):
    for item in request.session.items:
        where = item.nodeid.split("::")[0]
        if where.startswith("tests/unit/"):
            assert "unit" in markers(item), item.nodeid
        if where.startswith("tests/e2e/") or "served" in item.fixturenames:
            assert {"e2e", "serial"} <= markers(item), item.nodeid
        if "unit" in markers(item) and not where.startswith("tests/unit/"):  # unit by what it uses
            assert not {"database", "broker", "tmp_path"} & set(item.fixturenames), item.nodeid


def test_a_test_without_io_fixtures_is_a_unit_test(request):
    assert "unit" in markers(request.node)
    assert not {"postgres", "rabbitmq", "integration"} & markers(request.node)


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_the_database_variant_gives_the_marker(request, database):
    assert "integration" in markers(request.node)
    assert ("postgres" in markers(request.node)) == (database["backend"] == "postgres")
    assert "rabbitmq" not in markers(request.node)


@pytest.mark.parametrize("broker", ["filesystem", "rabbitmq"], indirect=True)
def test_the_broker_variant_gives_the_marker(request, broker):
    assert ("rabbitmq" in markers(request.node)) == (broker["kind"] == "rabbitmq")


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_each_postgres_test_gets_a_seeded_copy_of_the_template_of_its_own(content_ctx, database):
    name = content_ctx.db.engine.url.database
    assert name == create_engine(database["url"]).url.database and name.startswith("t4t_test_")
    with content_ctx.db.engine.connect() as conn:
        assert conn.execute(text("SELECT current_schema()")).scalar() == database["schema"]
        template = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :n"), {"n": "t4t_tmpl_content_%"}
        ).scalars()
        assert f"t4t_tmpl_content_{templates.inputs_hash('content')}" in set(template)
    with content_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Module)) == 9  # the seeded curriculum
    with content_ctx.db.unit_of_work() as uow:  # a write here must not reach the next test's copy
        uow.session.execute(text("DELETE FROM modules"))
        uow.commit()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_copy_never_holds_what_another_test_wrote(content_ctx):
    with content_ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Module)) == 9


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_per_test_databases_are_dropped_when_the_test_is_done(database):
    url = templates.create_test_database()
    name = create_engine(url).url.database
    admin = templates.admin()
    with admin.connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).fetchone()
    templates.drop_database(url)
    templates.finish()
    with admin.connect() as conn:
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).fetchone()


def test_a_changed_migration_or_seed_gives_a_new_template(tmp_path, monkeypatch):
    for part in ("services/content/migrations", "services/content/seed_data"):
        shutil.copytree(templates.ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("services/content/models.py", "services/content/seed.py"):
        shutil.copy(templates.ROOT / part, tmp_path / part)
    monkeypatch.setattr(templates, "ROOT", tmp_path)
    first = templates.inputs_hash("content")
    assert templates.inputs_hash("content") == first  # the same inputs, the same template

    migration = sorted((tmp_path / "services/content/migrations/versions").glob("*.py"))[-1]
    migration.write_text(migration.read_text() + "\n# changed\n")
    second = templates.inputs_hash("content")
    assert second != first

    seed = tmp_path / "services/content/seed_data/curriculum.json"
    seed.write_text(seed.read_text().replace("{", "{ ", 1))
    assert templates.inputs_hash("content") not in {first, second}


def test_a_spare_port_is_free_and_below_the_range_outgoing_connections_take_ports_from():
    import socket

    from shared.testing import spare_port

    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        low = int(ports.read().split()[0])
    picked = [spare_port() for _ in range(20)]
    assert all(10_000 <= port < low for port in picked)
    for port in picked:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))  # nothing holds it
