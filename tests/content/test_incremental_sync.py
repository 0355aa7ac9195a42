"""Incremental sync of the curriculum (changed_after): every change, in commit order, none while older ones are open."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select

from services.content.models import Module, Series
from shared.testing import require_postgres, wait_until
from tests.helpers import auth

BACKENDS = ["sqlite", "postgres"]
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")


def synced(client, tokens, path: str, after: int) -> dict:
    response = client.get(path, query_string={"changed_after": after}, headers=auth(tokens, CA_ADMIN))
    assert response.status_code == 200, response.json
    return response.json


def walk(client, tokens, path: str, after: int) -> tuple[list, int]:
    """Every page of changes after ``after``: the items, and the marker to resume after."""
    items, params = [], {"changed_after": after, "limit": 2}
    while True:
        page = client.get(path, query_string=params, headers=auth(tokens, CA_ADMIN)).json
        items += page["items"]
        if "next_cursor" not in page:
            return items, page["last_change"]
        params["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_changed_module_comes_again_and_nothing_else(client, content_ctx, tokens, database):
    with content_ctx.db.session() as session:
        series_id = session.scalars(select(Series.id)).first()
    path = f"/series/{series_id}/modules"
    modules, last = walk(client, tokens, path, 0)
    assert len(modules) == 9  # the whole series, two at a time
    for list_path in ("/series", "/materials", "/adaptations"):
        assert "last_change" in synced(client, tokens, list_path, 0)
    with content_ctx.db.unit_of_work() as uow:
        module = uow.session.scalars(select(Module).where(Module.position == 4)).one()
        module.title = module.title + " (revised)"
        uow.commit()
    changed = wait_until(lambda: walk(client, tokens, path, last)[0], timeout=30)
    assert [m["position"] for m in changed] == [4] and changed[0]["title"].endswith("(revised)")


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_change_is_held_back_while_an_older_transaction_is_open(client, content_ctx, tokens, database):
    with content_ctx.db.session() as session:
        series_id = session.scalars(select(Series.id)).first()
    path = f"/series/{series_id}/modules"
    _modules, last = walk(client, tokens, path, 0)
    with content_ctx.db.unit_of_work() as older:
        first = older.session.scalars(select(Module).where(Module.position == 1)).one()
        first.summary = "Written first, committed last."
        older.session.flush()
        with content_ctx.db.unit_of_work() as newer:
            ninth = newer.session.scalars(select(Module).where(Module.position == 9)).one()
            ninth.summary = "Written last, committed first."
            newer.commit()
        assert walk(client, tokens, path, last)[0] == []  # the ninth would overtake the first
        older.commit()
    changed = wait_until(
        lambda: (items := walk(client, tokens, path, last)[0]) and len(items) == 2 and items, timeout=30
    )
    assert sorted(m["position"] for m in changed) == [1, 9]


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_transaction_left_open_elsewhere_on_the_server_holds_nothing_back(client, content_ctx, tokens, database):
    with content_ctx.db.session() as session:
        series_id = session.scalars(select(Series.id)).first()
    path = f"/series/{series_id}/modules"
    _modules, last = walk(client, tokens, path, 0)
    url = require_postgres().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as elsewhere:  # another service's (or database's) transaction, left open
        elsewhere.execute("SELECT pg_current_xact_id()")
        with content_ctx.db.unit_of_work() as uow:
            module = uow.session.scalars(select(Module).where(Module.position == 2)).one()
            module.summary = "Changed while another service's transaction is open."
            uow.commit()
        changed = wait_until(lambda: walk(client, tokens, path, last)[0], timeout=5)
        assert [m["position"] for m in changed] == [2]
        elsewhere.rollback()
