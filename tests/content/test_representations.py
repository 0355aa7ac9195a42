"""Reused representations never outlive a change: every read after a write shows the write."""

import pytest

from tests.content.test_materials import PDF, create_material, jurisdiction_module, national_module_id, publish, upload


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_module_reads_follow_updates(client, tokens, database):
    admin = tokens.headers()
    module_id = national_module_id(client, tokens, 4)
    first = client.get(f"/modules/{module_id}", headers=admin)
    assert (
        client.get(f"/modules/{module_id}", headers={**admin, "If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    changed = client.patch(
        f"/modules/{module_id}",
        json={"summary": "Revised", "practice_codes": ["small-group-care"]},
        headers={**admin, "If-Match": first.headers["ETag"]},
    )
    assert changed.status_code == 200
    again = client.get(f"/modules/{module_id}", headers={**admin, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] == changed.headers["ETag"]
    assert again.json["summary"] == "Revised"
    assert [p["code"] for p in again.json["practices"]] == ["small-group-care"]
    # Another jurisdiction's reader is still scoped, cached or not.
    assert client.get(f"/modules/{module_id}", headers=tokens.headers("facilitator", "TX")).status_code == 200


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_material_pages_follow_updates(client, tokens, database):
    admin = tokens.headers()
    material = create_material(client, admin, national_module_id(client, tokens, 2), kind="resource")
    reader = tokens.headers("facilitator", "CA")
    assert client.get("/materials", headers=reader).json["items"] == []
    assert upload(client, admin, material["id"], PDF).status_code == 201
    assert publish(client, admin, material["id"]).status_code == 200
    [listed] = client.get("/materials", headers=reader).json["items"]
    assert listed["published_version"] == 1
    etag = client.get(f"/materials/{material['id']}", headers=admin).headers["ETag"]
    assert (
        client.patch(
            f"/materials/{material['id']}", json={"title": "Renamed"}, headers={**admin, "If-Match": etag}
        ).status_code
        == 200
    )
    [listed] = client.get("/materials", headers=reader).json["items"]
    assert listed["title"] == "Renamed"


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_a_jurisdictions_module_is_read_by_its_own_only_cached_or_not(client, tokens, database):
    # The version read behind GET /modules/<id> is one statement per kind of caller, run with the
    # caller's jurisdiction: after CA's readers, TX's must still get a 404.
    module = jurisdiction_module(client, tokens.headers("jurisdiction_admin", "CA"), "ca-local")
    path = f"/modules/{module['id']}"
    for _ in range(2):  # the second read is served from the representation cache
        assert client.get(path, headers=tokens.headers("facilitator", "CA")).json["title"] == "Local"
        for outsider in (tokens.headers("facilitator", "TX"), tokens.headers("jurisdiction_admin", "TX")):
            missing = client.get(path, headers=outsider)
            assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
        assert client.get(path, headers=tokens.headers()).status_code == 200  # a national admin
