"""Incremental sync (changed_after) of a community's lists is lossless while members write at the same time."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import event

from services.content.repository import communities as repo
from services.content.use_cases import communities as use_cases
from shared.auth import PARTICIPANT, Principal
from shared.db import Database
from tests.content.communities import CA_ADMIN, build_story, member_body, ok
from tests.helpers import auth

BACKENDS = ["sqlite", "postgres"]
WRITERS, ROUNDS = 5, 8


class Copy:
    """A state system's copy of one list, kept by the documented protocol (docs/api.md, Incremental sync)."""

    def __init__(self, client, headers, path):
        self.client, self.headers, self.path = client, headers, path
        self.rows: dict = {}
        self.deliveries: list = []
        self.last_change = 0

    def sync(self) -> None:
        params = {"changed_after": self.last_change, "limit": 3}
        while True:
            response = self.client.get(self.path, query_string=params, headers=self.headers)
            assert response.status_code == 200, response.json
            page = response.json
            for row in page["items"]:
                self.rows[row["id"]] = row
                self.deliveries.append((row["id"], row["updated_at"]))
            if "next_cursor" not in page:
                self.last_change = page["last_change"]
                return
            params["cursor"] = page["next_cursor"]


def whole(client, headers, path) -> dict:
    rows, params = {}, {"limit": 50}
    while True:
        page = ok(client.get(path, query_string=params, headers=headers))
        rows.update({row["id"]: row for row in page["items"]})
        if "next_cursor" not in page:
            return rows
        params["cursor"] = page["next_cursor"]


def slow_commits(db: Database) -> None:
    """Widen the window in which a transaction that wrote first commits last."""
    rng = random.Random(3)

    @event.listens_for(db.engine, "commit")
    def _pause(_connection):
        time.sleep(rng.uniform(0, 0.05))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_state_system_syncing_while_members_write_misses_nothing(client, content_app, content_ctx, tokens, database):
    story = build_story(client, tokens, content_ctx)
    staff = tokens.headers("national_admin", "US", sub="staff-rosa")
    people = [f"writer-{n}" for n in range(WRITERS)]
    for sub in people:
        ok(
            client.post(
                f"/communities/{story.id}/members", json=member_body(("participant", "CA", sub)), headers=staff
            ),
            201,
        )
    writers_db = Database(content_ctx.db.url, schema=content_ctx.db.schema, pool_size=WRITERS + 2)
    if writers_db.is_postgres:  # SQLite's writers take turns: a pause would only make them queue
        slow_commits(writers_db)
    failures: list[BaseException] = []

    def write(n: int):
        who = Principal(sub=people[n], tenant="CA", roles=frozenset({PARTICIPANT}))
        try:
            for index in range(ROUNDS):
                with writers_db.unit_of_work() as uow:
                    space = repo.get_space(uow.session, story.id, who)
                    thread = repo.get_thread(uow.session, space, story.thread["id"])
                    use_cases.reply(space, thread, {"body": f"Reply {index} of {who.sub}"}, uow, who, correlationid="")
                with writers_db.unit_of_work() as uow:
                    space = repo.get_space(uow.session, story.id, who)
                    item = use_cases.add_work_item(space, {"kind": "task", "title": f"Task {index}"}, uow, who)
                    item_id = item.id
                with writers_db.unit_of_work() as uow:  # the row changes again while the copy reads
                    space = repo.get_space(uow.session, story.id, who)
                    item = repo.get_work_item(uow.session, space, item_id)
                    use_cases.update_work_item(space, item, {"status": "done", "owner": who.sub}, uow)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    reader = content_app.test_client()
    headers = auth(tokens, CA_ADMIN)
    base = f"/communities/{story.id}"
    copies = [
        Copy(reader, headers, f"{base}/threads/{story.thread['id']}/replies"),
        Copy(reader, headers, f"{base}/work-items"),
        Copy(reader, headers, f"{base}/threads"),
        Copy(reader, headers, f"{base}/members"),
    ]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for copy in copies:
                copy.sync()
        for thread in threads:
            thread.join(60)
    finally:
        writers_db.dispose()
    assert failures == []

    expected = {copy.path: whole(reader, headers, copy.path) for copy in copies}
    assert len(expected[copies[0].path]) == 1 + WRITERS * ROUNDS
    assert len(expected[copies[1].path]) == 1 + WRITERS * ROUNDS
    assert expected[copies[2].path][story.thread["id"]]["reply_count"] == 1 + WRITERS * ROUNDS
    deadline = time.monotonic() + 30
    # On PostgreSQL the last changes come once no older transaction of the server is still open.
    while any(copy.rows != expected[copy.path] for copy in copies):
        assert time.monotonic() < deadline, [copy.path for copy in copies if copy.rows != expected[copy.path]]
        time.sleep(0.1)
        for copy in copies:
            copy.sync()
    for copy in copies:  # a row comes again only when it changed again: never the same change twice
        assert len(copy.deliveries) == len(set(copy.deliveries)), copy.path


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_list_of_a_community_and_the_published_syntheses_sync_by_change_marker(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    base = f"/communities/{story.id}"
    paths = [
        "/communities",
        f"{base}/members",
        f"{base}/threads",
        f"{base}/threads/{story.thread['id']}/replies",
        f"{base}/documents",
        f"{base}/work-items",
        f"{base}/knowledge-products",
        f"{base}/syntheses",
        f"{base}/consents",
        "/syntheses",
    ]
    headers = tokens.headers("national_admin", "US")
    for path in paths:
        page = ok(client.get(path, query_string={"changed_after": 0}, headers=headers))
        assert "last_change" in page, path
        assert ok(client.get(path, query_string={"changed_after": page["last_change"]}, headers=headers))["items"] == []
    # A consent changes what a published synthesis shows: the synthesis comes again to a synced copy.
    sid = story.synthesis["id"]
    ok(client.post(f"{base}/syntheses/{sid}/publish", headers=headers))
    last = ok(client.get("/syntheses", query_string={"changed_after": 0}, headers=headers))["last_change"]
    ok(
        client.put(
            f"{base}/consents/CTUIR",
            json={"choice": "attribute"},
            headers=tokens.headers("jurisdiction_admin", "CTUIR", sub="admin-ctuir"),
        )
    )
    again = ok(client.get("/syntheses", query_string={"changed_after": last}, headers=headers))["items"]
    assert [s["id"] for s in again] == [sid] and again[0]["contributions"][0]["jurisdiction"] == "CTUIR"
