"""Materials over HTTP: create, upload or link versions, publish with its event, read and download by role."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from services.content.models import Material, MaterialVersion, platform
from shared.envelope import parse_event

BACKENDS = ["sqlite", "postgres"]
PROBLEM = "application/problem+json"
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
SMALL_LIMIT = 4096

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    + b"% padding so byte ranges have something to cut\n" * 20
    + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def office_file(part: str) -> bytes:
    """A minimal OOXML package: filetype needs [Content_Types].xml first, then a word/ or ppt/ part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        package.writestr(part, '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


DOCX = office_file("word/document.xml")
PPTX = office_file("ppt/presentation.xml")


# --- helpers ------------------------------------------------------------------------------------


def national_module_id(client, tokens, position: int = 1) -> str:
    headers = tokens.headers("facilitator", "CA")
    [series] = client.get("/series", headers=headers).json["items"]
    modules = client.get(f"/series/{series['id']}/modules", headers=headers).json["items"]
    return next(m["id"] for m in modules if m["position"] == position)


def jurisdiction_module(client, headers, slug: str) -> dict:
    """A module of a new series of the caller's own jurisdiction."""
    series = client.post("/series", json={"slug": slug, "title": f"{slug} series"}, headers=headers)
    assert series.status_code == 201, series.json
    module = client.post(
        f"/series/{series.json['id']}/modules", json={"position": 1, "title": "Local"}, headers=headers
    )
    assert module.status_code == 201, module.json
    return module.json


def create_material(client, headers, module_id, kind="slide_deck", title="Session slides", **extra):
    response = client.post(
        "/materials", json={"module_id": module_id, "kind": kind, "title": title}, headers={**headers, **extra}
    )
    assert response.status_code == 201, response.json
    return response.json


def upload(
    client,
    headers,
    material_id,
    content: bytes,
    *,
    filename="deck.pdf",
    content_type=PDF_TYPE,
    note=None,
    extra_headers=None,
):
    data = {"file": (io.BytesIO(content), filename, content_type)}
    if note is not None:
        data["note"] = note
    return client.post(
        f"/materials/{material_id}/versions",
        data=data,
        content_type="multipart/form-data",
        headers={**headers, **(extra_headers or {})},
    )


def publish(client, headers, material_id, **body):
    return client.post(f"/materials/{material_id}/publish", json=body or None, headers=headers)


def numbers(client, headers, material_id) -> list[int]:
    return [v["number"] for v in client.get(f"/materials/{material_id}/versions", headers=headers).json["items"]]


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM, response.mimetype
    assert response.json["status"] == status
    if field is not None:
        assert field in response.json.get("errors", {}), response.json


def count(ctx, model, *where) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def stored_files(ctx) -> list:
    root = ctx.extra["storage"].root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def admin(tokens):
    return tokens.headers("national_admin", "US")


@pytest.fixture
def small_ctx(content_ctx):
    """The content context with a 4 KiB upload limit (and a request limit just above it, as from_env sets)."""
    from services.content.bootstrap import build_context

    config = dataclasses.replace(
        content_ctx.config, max_upload_bytes=SMALL_LIMIT, max_request_bytes=SMALL_LIMIT + 64 * 1024
    )
    ctx = build_context(config)
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def small_client(small_ctx):
    from services.content.app import create_app

    app = create_app(small_ctx)
    app.config["TESTING"] = True
    return app.test_client()


# --- the main path ------------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_upload_publish_and_download(client, tokens, admin, content_ctx, database):
    material = create_material(client, admin, national_module_id(client, tokens))
    assert material["tenant"] is None and material["status"] == "draft" and material["latest_version"] == 0

    uploaded = upload(client, admin, material["id"], PDF, filename="session 1/../deck.pdf", note="first cut")
    assert uploaded.status_code == 201, uploaded.json
    version = uploaded.json
    assert version["number"] == 1
    assert version["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert version["size"] == len(PDF)
    assert version["media_type"] == PDF_TYPE
    assert version["filename"] == "deck.pdf"
    assert version["note"] == "first cut"
    assert uploaded.headers["Location"].endswith(f"/materials/{material['id']}/versions/1")
    assert content_ctx.extra["storage"].path_for(version["sha256"]).read_bytes() == PDF

    published = client.post(f"/materials/{material['id']}/publish", headers={**admin, "X-Correlation-ID": "corr-1"})
    assert published.status_code == 200, published.json
    assert published.json["status"] == "published"
    assert published.json["published_version"] == 1
    assert published.json["published_at"]

    with content_ctx.db.session() as session:
        [row] = session.scalars(select(platform.outbox)).all()
    assert row.event_type == "content.material.published"
    event = parse_event(row.body)
    assert event.subject == material["id"] and event.tenant == "national" and event.correlationid == "corr-1"
    assert event.data["version"] == 1 and event.data["sha256"] == version["sha256"]
    assert event.data["national"] is True and event.data["kind"] == "slide_deck"

    for tenant in ("CA", "TX"):
        reader = tokens.headers("facilitator", tenant)
        assert client.get(f"/materials/{material['id']}", headers=reader).json["published_version"] == 1
        listed = client.get("/materials", headers=reader).json["items"]
        assert [m["id"] for m in listed] == [material["id"]]
        download = client.get(f"/materials/{material['id']}/versions/1/download", headers=reader)
        assert download.status_code == 200
        assert download.data == PDF
        assert download.mimetype == PDF_TYPE
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert "deck.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        etag = download.headers["ETag"]
        assert version["sha256"] in etag

        ranged = client.get(
            f"/materials/{material['id']}/versions/1/download", headers={**reader, "Range": "bytes=5-14"}
        )
        assert ranged.status_code == 206
        assert ranged.data == PDF[5:15]
        assert ranged.headers["Content-Range"] == f"bytes 5-14/{len(PDF)}"

        cached = client.get(
            f"/materials/{material['id']}/versions/1/download", headers={**reader, "If-None-Match": etag}
        )
        assert cached.status_code == 304
        assert cached.data == b""


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_readers_get_the_published_version_only(client, tokens, admin, content_ctx, database):
    material = create_material(client, admin, national_module_id(client, tokens))
    mid = material["id"]
    assert upload(client, admin, mid, PDF).status_code == 201
    assert publish(client, admin, mid).status_code == 200
    second = upload(client, admin, mid, PPTX, filename="deck.pptx", content_type=PPTX_TYPE)
    assert second.status_code == 201 and second.json["number"] == 2

    reader = tokens.headers("facilitator", "TX")
    assert numbers(client, reader, mid) == [1]
    assert_problem(client.get(f"/materials/{mid}/versions/2", headers=reader), 404)
    assert_problem(client.get(f"/materials/{mid}/versions/2/download", headers=reader), 404)
    assert numbers(client, admin, mid) == [1, 2]
    assert client.get(f"/materials/{mid}/versions/2", headers=admin).json["media_type"] == PPTX_TYPE
    assert_problem(client.get(f"/materials/{mid}/versions/3", headers=admin), 404)
    assert_problem(client.get(f"/materials/{mid}/versions/{2**40}/download", headers=admin), 404)

    assert_problem(publish(client, admin, mid, version=1), 409, "version")  # already published
    assert_problem(publish(client, admin, mid, version=3), 422, "version")  # does not exist
    moved = publish(client, admin, mid, version=2)
    assert moved.status_code == 200 and moved.json["published_version"] == 2
    assert_problem(publish(client, admin, mid, version=1), 409, "version")  # no going back
    assert_problem(publish(client, admin, mid), 409, "version")  # the latest is already published
    assert client.get(f"/materials/{mid}/versions/2/download", headers=reader).data == PPTX
    assert count(content_ctx, platform.outbox) == 2


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_drafts_are_invisible_to_facilitators(client, tokens, admin, database):
    material = create_material(client, admin, national_module_id(client, tokens))
    assert upload(client, admin, material["id"], PDF).status_code == 201
    reader = tokens.headers("facilitator", "CA")
    assert_problem(client.get(f"/materials/{material['id']}", headers=reader), 404)
    assert_problem(client.get(f"/materials/{material['id']}/versions", headers=reader), 404)
    assert_problem(client.get(f"/materials/{material['id']}/versions/1/download", headers=reader), 404)
    assert client.get("/materials", headers=reader).json["items"] == []
    assert client.get("/materials?status=draft", headers=reader).json["items"] == []
    drafts = client.get("/materials?status=draft", headers=admin).json["items"]
    assert [m["id"] for m in drafts] == [material["id"]]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_jurisdictions_material_stays_in_its_jurisdiction(client, tokens, admin, content_ctx, database):
    ca_admin = tokens.headers("jurisdiction_admin", "CA")
    material = create_material(
        client, ca_admin, national_module_id(client, tokens, 2), kind="facilitator_guide", title="CA guide"
    )
    assert material["tenant"] == "CA"
    assert (
        upload(client, ca_admin, material["id"], DOCX, filename="guide.docx", content_type=DOCX_TYPE).status_code == 201
    )
    assert publish(client, ca_admin, material["id"]).status_code == 200
    with content_ctx.db.session() as session:
        [row] = session.scalars(select(platform.outbox)).all()
    assert parse_event(row.body).tenant == "CA"

    insider = tokens.headers("facilitator", "CA")
    assert client.get(f"/materials/{material['id']}", headers=insider).status_code == 200
    # The list's statement is built once per kind of caller, then run with each caller's jurisdiction.
    assert [m["id"] for m in client.get("/materials", headers=insider).json["items"]] == [material["id"]]
    for outsider in (tokens.headers("facilitator", "TX"), tokens.headers("jurisdiction_admin", "TX")):
        assert_problem(client.get(f"/materials/{material['id']}", headers=outsider), 404)
        assert_problem(client.get(f"/materials/{material['id']}/versions/1/download", headers=outsider), 404)
        assert client.get("/materials", headers=outsider).json["items"] == []
    assert [m["id"] for m in client.get("/materials", headers=admin).json["items"]] == [material["id"]]
    # A national admin sees it but does not own it.
    item = client.get(f"/materials/{material['id']}", headers=admin)
    assert item.status_code == 200
    changed = client.patch(
        f"/materials/{material['id']}", json={"title": "Mine now"}, headers={**admin, "If-Match": item.headers["ETag"]}
    )
    assert_problem(changed, 403)
    assert_problem(upload(client, admin, material["id"], DOCX, content_type=DOCX_TYPE), 403)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_list_pages_with_filters(client, tokens, admin, database):
    module_id = national_module_id(client, tokens, 3)
    made = [
        create_material(client, admin, module_id, kind=kind, title=f"Draft {n}")["id"]
        for n, kind in enumerate(("slide_deck", "resource", "resource", "resource"))
    ]
    seen, cursor = [], None
    while True:
        query = {
            "limit": 1,
            "status": "draft",
            "kind": "resource",
            "module_id": module_id,
            **({"cursor": cursor} if cursor else {}),
        }
        page = client.get("/materials", query_string=query, headers=admin)
        assert page.status_code == 200, page.json
        seen += [m["id"] for m in page.json["items"]]
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
    assert seen == made[1:]  # oldest change first, one page each
    other_module = national_module_id(client, tokens, 4)
    assert (
        client.get("/materials", query_string={"status": "draft", "module_id": other_module}, headers=admin).json[
            "items"
        ]
        == []
    )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_module_must_be_one_the_curator_may_use(client, tokens, admin, database):
    ca_admin = tokens.headers("jurisdiction_admin", "CA")
    module = jurisdiction_module(client, ca_admin, "ca-extras")
    assert create_material(client, ca_admin, module["id"])["tenant"] == "CA"

    body = {"module_id": module["id"], "kind": "resource", "title": "x"}
    assert_problem(
        client.post("/materials", json=body, headers=tokens.headers("jurisdiction_admin", "TX")), 422, "module_id"
    )
    assert_problem(client.post("/materials", json=body, headers=admin), 422, "module_id")
    unknown = {**body, "module_id": "nope"}
    assert_problem(client.post("/materials", json=unknown, headers=admin), 422, "module_id")


# --- refusals: nothing is written ---------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_oversize_upload_is_refused_with_nothing_kept(small_client, tokens, admin, small_ctx, database):
    material = create_material(small_client, admin, national_module_id(small_client, tokens))
    too_big = PDF + b"%" * SMALL_LIMIT
    refused = upload(small_client, admin, material["id"], too_big)
    assert_problem(refused, 413, "file")
    # Far beyond the request limit: werkzeug refuses the body before the view, still as a problem.
    huge = upload(small_client, admin, material["id"], PDF + b"%" * (SMALL_LIMIT + 128 * 1024))
    assert_problem(huge, 413)
    huge_keyed = upload(
        small_client,
        admin,
        material["id"],
        PDF + b"%" * (SMALL_LIMIT + 128 * 1024),
        extra_headers={"Idempotency-Key": "big-1"},
    )
    assert_problem(huge_keyed, 413)

    assert count(small_ctx, MaterialVersion) == 0
    assert stored_files(small_ctx) == []
    assert small_client.get(f"/materials/{material['id']}", headers=admin).json["latest_version"] == 0
    fits = upload(small_client, admin, material["id"], PDF)
    assert fits.status_code == 201 and fits.json["number"] == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_wrong_file_types_are_refused_with_nothing_kept(client, tokens, admin, content_ctx, database):
    module_id = national_module_id(client, tokens)
    deck = create_material(client, admin, module_id)
    cases = [
        (PNG, "deck.pdf", PDF_TYPE),  # the bytes are a PNG, whatever the part says
        (EXE, "deck.pdf", PDF_TYPE),  # an executable in disguise
        (EXE, "setup.exe", "application/x-msdownload"),
        (PNG, "photo.png", "image/png"),  # honest, but slide decks take no images
        (DOCX, "guide.docx", DOCX_TYPE),  # honest, but not a slide deck format
        (PDF, "deck.pdf", "application/octet-stream"),  # the real type must be declared
        (PDF, "deck.pdf", PPTX_TYPE),
        (b"just some text", "notes.txt", "text/plain"),
    ]
    for content, filename, declared in cases:
        assert_problem(
            upload(client, admin, deck["id"], content, filename=filename, content_type=declared), 415, "file"
        )

    assert_problem(
        client.post(f"/materials/{deck['id']}/versions", json={"url": "https://example.org/v"}, headers=admin),
        415,
        "file",
    )
    assert_problem(
        client.post(f"/materials/{deck['id']}/versions", data=PDF, content_type="text/plain", headers=admin), 415
    )
    video = create_material(client, admin, module_id, kind="video_link", title="Intro video")
    assert_problem(upload(client, admin, video["id"], PDF), 415, "url")
    assert count(content_ctx, MaterialVersion) == 0
    assert stored_files(content_ctx) == []

    resource = create_material(client, admin, module_id, kind="resource", title="Handout picture")
    accepted = upload(client, admin, resource["id"], PNG, filename="handout.png", content_type="image/png")
    assert accepted.status_code == 201 and accepted.json["media_type"] == "image/png"
    assert stored_files(content_ctx) == [content_ctx.extra["storage"].path_for(accepted.json["sha256"])]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_upload_form_is_validated(client, tokens, admin, content_ctx, database):
    deck = create_material(client, admin, national_module_id(client, tokens))
    missing = client.post(
        f"/materials/{deck['id']}/versions", data={"note": "no file"}, content_type="multipart/form-data", headers=admin
    )
    assert_problem(missing, 422, "file")
    assert_problem(upload(client, admin, deck["id"], PDF, note="x" * 2001), 422, "note")
    extra = client.post(
        f"/materials/{deck['id']}/versions",
        content_type="multipart/form-data",
        headers=admin,
        data={"file": (io.BytesIO(PDF), "d.pdf", PDF_TYPE), "colour": "blue"},
    )
    assert_problem(extra, 422, "colour")
    assert count(content_ctx, MaterialVersion) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_video_link_versions(client, tokens, admin, content_ctx, database):
    module_id = national_module_id(client, tokens)
    video = create_material(client, admin, module_id, kind="video_link", title="Intro")
    url = f"/materials/{video['id']}/versions"
    for bad in ("not a url", "ftp://example.org/video", "javascript:alert(1)", "https://"):
        assert_problem(client.post(url, json={"url": bad}, headers=admin), 422, "url")
    assert_problem(client.post(url, json={}, headers=admin), 422, "url")
    extra = {"url": "https://example.org/v", "extra": 1}
    assert_problem(client.post(url, json=extra, headers=admin), 422, "extra")
    assert count(content_ctx, MaterialVersion) == 0

    added = client.post(url, json={"url": "https://video.example.org/watch?v=42", "note": "recorded"}, headers=admin)
    assert added.status_code == 201, added.json
    assert added.json["number"] == 1 and added.json["url"] == "https://video.example.org/watch?v=42"
    assert added.json["sha256"] is None and added.json["filename"] is None
    assert publish(client, admin, video["id"]).status_code == 200
    with content_ctx.db.session() as session:
        [row] = session.scalars(select(platform.outbox)).all()
    assert parse_event(row.body).data["url"] == "https://video.example.org/watch?v=42"
    no_file = client.get(f"{url}/1/download", headers=tokens.headers("facilitator", "CA"))
    assert_problem(no_file, 404)
    assert "video link" in no_file.json["detail"]


# --- HTTP conventions ---------------------------------------------------------------------------


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bodies_and_callers_are_checked(client, tokens, admin, content_ctx, database):
    module_id = national_module_id(client, tokens)
    body = {"module_id": module_id, "kind": "resource", "title": "Handout"}
    unknown = client.post("/materials", json={**body, "tenant": "TX", "colour": "blue"}, headers=admin)
    assert_problem(unknown, 422, "colour")
    assert "tenant" in unknown.json["errors"]  # server-owned: refused, never taken from the body
    assert_problem(client.post("/materials", json={**body, "kind": "podcast"}, headers=admin), 422, "kind")
    malformed = client.post("/materials", data='{"title": ', content_type="application/json", headers=admin)
    assert_problem(malformed, 400)
    assert_problem(
        client.post("/materials", data="title=x", content_type="application/x-www-form-urlencoded", headers=admin), 415
    )
    assert_problem(client.post("/materials", json=body), 401)
    assert_problem(client.get("/materials"), 401)
    assert_problem(client.post("/materials", json=body, headers=tokens.headers("facilitator", "CA")), 403)
    assert count(content_ctx, Material) == 0

    material = create_material(client, admin, module_id)
    assert_problem(upload(client, tokens.headers("facilitator", "CA"), material["id"], PDF), 403)
    assert_problem(
        client.post(f"/materials/{material['id']}/publish", headers=tokens.headers("facilitator", "CA")), 403
    )
    assert_problem(client.get("/materials/no-such-id", headers=admin), 404)


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_publish_needs_a_version_and_a_json_body(client, tokens, admin, content_ctx, database):
    material = create_material(client, admin, national_module_id(client, tokens))
    assert_problem(publish(client, admin, material["id"]), 409, "version")
    assert upload(client, admin, material["id"], PDF).status_code == 201
    assert_problem(
        client.post(
            f"/materials/{material['id']}/publish",
            data="version=1",
            content_type="application/x-www-form-urlencoded",
            headers=admin,
        ),
        415,
    )
    assert_problem(publish(client, admin, material["id"], version="one"), 422, "version")
    assert_problem(publish(client, admin, material["id"], version=1, when="now"), 422, "when")
    assert count(content_ctx, platform.outbox) == 0
    assert publish(client, admin, material["id"], version=1).status_code == 200
    assert count(content_ctx, platform.outbox) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_patch_needs_the_current_etag(client, tokens, admin, database):
    material = create_material(client, admin, national_module_id(client, tokens))
    item = f"/materials/{material['id']}"
    etag = client.get(item, headers=admin).headers["ETag"]
    assert_problem(client.patch(item, json={"title": "New"}, headers=admin), 428)
    changed = client.patch(item, json={"title": "New"}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200, changed.json
    assert changed.json["title"] == "New" and changed.headers["ETag"] != etag
    assert_problem(client.patch(item, json={"title": "Stale"}, headers={**admin, "If-Match": etag}), 412)
    current = {**admin, "If-Match": changed.headers["ETag"]}
    assert_problem(client.patch(item, json={"kind": "resource"}, headers=current), 422, "kind")
    assert client.get(item, headers=admin).json["title"] == "New"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_idempotency_key_replays_creates(client, tokens, admin, content_ctx, database):
    module_id = national_module_id(client, tokens)
    first = create_material(client, admin, module_id, **{"Idempotency-Key": "create-1"})
    body = {"module_id": module_id, "kind": "slide_deck", "title": "Session slides"}
    again = client.post("/materials", json=body, headers={**admin, "Idempotency-Key": "create-1"})
    assert again.status_code == 201
    assert again.json["id"] == first["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(content_ctx, Material) == 1

    # A retry resends the same bytes, multipart boundary included: the key fingerprints the raw body.
    part = FileStorage(io.BytesIO(PDF), "deck.pdf", content_type=PDF_TYPE)
    boundary, raw = encode_multipart({"file": part})
    retry = dict(
        data=raw,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={**admin, "Idempotency-Key": "upload-1"},
    )
    one = client.post(f"/materials/{first['id']}/versions", **retry)
    two = client.post(f"/materials/{first['id']}/versions", **retry)
    assert one.status_code == two.status_code == 201
    assert one.json == two.json and two.headers["Idempotent-Replayed"] == "true"
    assert count(content_ctx, MaterialVersion) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_pagination_walks_every_material(client, tokens, admin, database):
    module_id = national_module_id(client, tokens)
    created = {create_material(client, admin, module_id, title=f"Deck {i}")["id"] for i in range(5)}
    seen, cursor, pages = [], None, 0
    while True:
        query = "/materials?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(query, headers=admin)
        assert page.status_code == 200, page.json
        seen += [m["id"] for m in page.json["items"]]
        pages += 1
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
        assert 'rel="next"' in page.headers["Link"]
    assert len(seen) == len(set(seen)) == 5 and set(seen) == created
    assert pages == 5
    kinds = client.get(f"/materials?module_id={module_id}&kind=slide_deck&status=draft", headers=admin).json
    assert len(kinds["items"]) == 5
    assert client.get("/materials?kind=video_link", headers=admin).json["items"] == []
    assert_problem(client.get("/materials?cursor=garbage", headers=admin), 422, "cursor")
