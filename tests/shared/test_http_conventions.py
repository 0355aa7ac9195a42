"""HTTP conventions every service shares, exercised through the content app."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from services.content.models import Module, Series
from shared.testing import Tokens

PROBLEM = "application/problem+json"


def count(ctx, model) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"]
    if field:
        assert field in json.dumps(body.get("errors", {})), body
    return body


def new_series(**overrides):
    return {"slug": "state-orientation", "title": "State orientation", **overrides}


def test_openapi_document_is_valid_and_docs_page_served(client):
    spec = client.get("/openapi.json").json
    validate(spec)
    assert "/series" in spec["paths"] and "/dead-letters" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_unknown_path_and_method_are_problems(client, tokens):
    assert_problem(client.get("/no-such-thing"), 404)
    body = assert_problem(client.delete("/series", headers=tokens.headers()), 405)
    assert body["title"] == "Method Not Allowed"


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_bad_bodies_are_problems_and_write_nothing(client, tokens, content_ctx, database):
    admin = tokens.headers()
    before = count(content_ctx, Series)
    assert_problem(client.post("/series", data="{not json", headers={**admin, "Content-Type": "application/json"}), 400)
    assert_problem(client.post("/series", data="slug=x", headers={**admin, "Content-Type": "text/plain"}), 415)
    assert_problem(client.post("/series", json=new_series(title=5), headers=admin), 422, "title")
    assert_problem(client.post("/series", json=new_series(colour="red"), headers=admin), 422, "colour")
    body = assert_problem(client.post("/series", json=new_series(tenant="TX", id="x"), headers=admin), 422)
    assert set(body["errors"]) == {"tenant", "id"}  # server-owned fields cannot be sent
    assert_problem(client.post("/series", json=new_series(slug="Not A Slug"), headers=admin), 422, "slug")
    assert_problem(client.post("/series", json=[1, 2], headers=admin), 422)
    huge = {"slug": "big", "title": "x" * 200, "description": "y" * (content_ctx.config.max_request_bytes + 10)}
    assert_problem(client.post("/series", json=huge, headers=admin), 413)
    assert count(content_ctx, Series) == before


def test_authentication_failures_are_401_problems(client, tokens):
    assert_problem(client.get("/series"), 401)
    assert client.get("/series").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/series", headers={"Authorization": "Basic abc"}), 401)
    expired = tokens.token("facilitator", "CA", ttl_seconds=-300)
    body = assert_problem(client.get("/series", headers={"Authorization": f"Bearer {expired}"}), 401)
    assert "expired" in body["detail"]
    forged = Tokens().token("national_admin", "US")  # signed by a key the service does not trust
    assert_problem(client.get("/series", headers={"Authorization": f"Bearer {forged}"}), 401)
    assert_problem(client.get("/series", headers={"Authorization": "Bearer not.a.jwt"}), 401)
    assert_problem(client.get("/series", headers={"X-API-Key": "t4tk_deadbeef_nope"}), 401)


def test_unsigned_and_wrong_audience_tokens_are_refused(client, tokens):
    import jwt

    claims = {
        "iss": "https://idp.test.example",
        "aud": "t4t-platform",
        "sub": "x",
        "tenant": "US",
        "roles": ["national_admin"],
        "iat": 1,
        "exp": 4_102_444_800,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert_problem(client.get("/series", headers={"Authorization": f"Bearer {unsigned}"}), 401)
    other_audience = jwt.encode({**claims, "aud": "someone-else"}, tokens.private_pem, algorithm="RS256")
    assert_problem(client.get("/series", headers={"Authorization": f"Bearer {other_audience}"}), 401)
    hmac_confusion = jwt.encode(claims, "a-shared-secret-of-32-bytes-or-more", algorithm="HS256")
    assert_problem(client.get("/series", headers={"Authorization": f"Bearer {hmac_confusion}"}), 401)


def test_national_slugs_are_unique(client, tokens, content_ctx):
    admin = tokens.headers()
    assert client.post("/series", json=new_series(), headers=admin).status_code == 201
    assert_problem(client.post("/series", json=new_series(), headers=admin), 409, "slug")
    # Another jurisdiction may use the same slug for its own series.
    assert (
        client.post("/series", json=new_series(), headers=tokens.headers("jurisdiction_admin", "CA")).status_code == 201
    )


def test_roles_are_checked_before_the_body(client, tokens, content_ctx):
    before = count(content_ctx, Series)
    assert_problem(client.post("/series", json=new_series(), headers=tokens.headers("facilitator", "CA")), 403)
    assert count(content_ctx, Series) == before


def test_jurisdiction_curriculum_is_invisible_to_other_jurisdictions(client, tokens):
    ca_admin = tokens.headers("jurisdiction_admin", "CA")
    created = client.post("/series", json=new_series(), headers=ca_admin)
    assert created.status_code == 201 and created.json["tenant"] == "CA"
    series_id = created.json["id"]
    assert client.get(f"/series/{series_id}", headers=tokens.headers("facilitator", "CA")).status_code == 200
    assert_problem(client.get(f"/series/{series_id}", headers=tokens.headers("facilitator", "TX")), 404)
    tx_admin = tokens.headers("jurisdiction_admin", "TX")
    assert_problem(
        client.post(f"/series/{series_id}/modules", json={"position": 1, "title": "x"}, headers=tx_admin), 404
    )
    listed = client.get("/series", headers=tokens.headers("facilitator", "TX")).json["items"]
    assert series_id not in [s["id"] for s in listed]


def test_idempotency_key_replays_the_first_create(client, tokens, content_ctx):
    admin = {**tokens.headers(), "Idempotency-Key": "create-orientation-1"}
    first = client.post("/series", json=new_series(), headers=admin)
    again = client.post("/series", json=new_series(), headers=admin)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert_problem(client.post("/series", json=new_series(title="Other"), headers=admin), 422, "Idempotency-Key")
    assert count(content_ctx, Series) == 2  # the seeded series and this one


def test_etag_and_if_match_guard_updates(client, tokens):
    admin = tokens.headers()
    series_id = client.get("/series", headers=admin).json["items"][0]["id"]
    module = client.get(f"/series/{series_id}/modules", headers=admin).json["items"][2]
    read = client.get(f"/modules/{module['id']}", headers=admin)
    etag = read.headers["ETag"]
    assert client.get(f"/modules/{module['id']}", headers={**admin, "If-None-Match": etag}).status_code == 304
    assert_problem(client.patch(f"/modules/{module['id']}", json={"summary": "x"}, headers=admin), 428)
    assert_problem(
        client.patch(f"/modules/{module['id']}", json={"summary": "x"}, headers={**admin, "If-Match": '"stale"'}), 412
    )
    ok = client.patch(f"/modules/{module['id']}", json={"summary": "Updated"}, headers={**admin, "If-Match": etag})
    assert ok.status_code == 200 and ok.json["summary"] == "Updated"
    assert_problem(
        client.patch(f"/modules/{module['id']}", json={"summary": "again"}, headers={**admin, "If-Match": etag}), 412
    )
    assert_problem(
        client.patch(
            f"/modules/{module['id']}",
            json={"practice_codes": ["nope"]},
            headers={**admin, "If-Match": ok.headers["ETag"]},
        ),
        422,
        "practice_codes",
    )


def test_a_jurisdiction_admin_cannot_edit_the_national_curriculum(client, tokens):
    ca_admin = tokens.headers("jurisdiction_admin", "CA")
    series_id = client.get("/series", headers=ca_admin).json["items"][0]["id"]
    etag = client.get(f"/series/{series_id}", headers=ca_admin).headers["ETag"]
    assert_problem(
        client.patch(f"/series/{series_id}", json={"title": "Mine"}, headers={**ca_admin, "If-Match": etag}), 403
    )


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_cursor_pagination_walks_every_item_once(client, tokens, database):
    admin = tokens.headers()
    series_id = client.get("/series", headers=admin).json["items"][0]["id"]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/series/{series_id}/modules", query_string=query, headers=admin)
        assert page.status_code == 200
        seen += [m["position"] for m in page.json["items"]]
        cursor = page.json.get("next_cursor")
        if not cursor:
            break
        assert 'rel="next"' in page.headers["Link"]
    assert seen == list(range(1, 10))
    capped = client.get(f"/series/{series_id}/modules", query_string={"limit": 10_000}, headers=admin)
    assert len(capped.json["items"]) == 9
    assert_problem(
        client.get(f"/series/{series_id}/modules", query_string={"cursor": "garbage"}, headers=admin), 422, "cursor"
    )
    assert_problem(
        client.get("/series", query_string={"updated_since": "yesterday"}, headers=admin), 422, "updated_since"
    )


def test_updated_since_returns_only_later_changes(client, tokens):
    from datetime import UTC, datetime, timedelta

    admin = tokens.headers()
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert client.get("/series", query_string={"updated_since": future}, headers=admin).json["items"] == []
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert len(client.get("/series", query_string={"updated_since": past}, headers=admin).json["items"]) == 1


def test_api_keys_are_shown_once_stored_hashed_scoped_and_revocable(client, tokens, content_ctx):
    ca_admin = tokens.headers("jurisdiction_admin", "CA")
    created = client.post("/api-keys", json={"name": "CA registry", "roles": ["integration"]}, headers=ca_admin)
    assert created.status_code == 201
    key = created.json["key"]
    with content_ctx.db.session() as session:
        row = session.get(content_ctx.tables.api_key, created.json["id"])
        assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    assert client.get("/api-keys", headers=ca_admin).json["items"][0].get("key") is None
    as_key = {"X-API-Key": key}
    assert client.get("/series", headers=as_key).status_code == 200
    assert client.get("/api-keys", headers=ca_admin).json["items"][0]["last_used_at"]
    assert_problem(client.post("/series", json=new_series(), headers=as_key), 403)
    assert_problem(
        client.post(f"/api-keys/{created.json['id']}/revoke", headers=tokens.headers("jurisdiction_admin", "TX")), 404
    )
    assert client.post(f"/api-keys/{created.json['id']}/revoke", headers=ca_admin).json["revoked"] is True
    assert_problem(client.get("/series", headers=as_key), 401)
    assert_problem(
        client.post("/api-keys", json={"name": "x", "roles": ["national_admin"]}, headers=ca_admin), 422, "roles"
    )


def test_health_readiness_metrics_and_correlation_id(client, tokens):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {
        "database": "ok",
        "broker": "ok",
        "identity_provider": "ok",
    }
    response = client.get("/series", headers={**tokens.headers(), "X-Correlation-ID": "req-123"})
    assert response.headers["X-Correlation-ID"] == "req-123"
    assert client.get("/series", headers=tokens.headers()).headers["X-Correlation-ID"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/series",method="GET",status="200"}' in metrics


def test_readiness_reports_an_unreachable_broker_and_fails_without_a_database(content_ctx):
    from services.content.app import create_app

    def broker_down():
        raise ConnectionRefusedError("no broker")

    content_ctx.broker_check = broker_down
    client = create_app(content_ctx).test_client()
    degraded = client.get("/readyz")
    assert degraded.status_code == 200 and degraded.json["status"] == "degraded"
    assert degraded.json["checks"]["broker"].startswith("unavailable")
    from shared.db import Database

    content_ctx.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none", schema="content")
    body = assert_problem(client.get("/readyz"), 503)
    assert body["checks"]["database"].startswith("unavailable")


def test_an_unexpected_error_is_a_500_problem_without_a_trace(content_app, tokens):
    @content_app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = content_app.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True) and body["correlationid"]


def test_module_positions_are_unique_per_series(client, tokens, content_ctx):
    admin = tokens.headers()
    series_id = client.get("/series", headers=admin).json["items"][0]["id"]
    before = count(content_ctx, Module)
    assert_problem(
        client.post(f"/series/{series_id}/modules", json={"position": 3, "title": "Dup"}, headers=admin),
        409,
        "position",
    )
    added = client.post(
        f"/series/{series_id}/modules",
        json={"position": 10, "title": "Extra session", "practice_codes": ["inclusive-care"]},
        headers=admin,
    )
    assert added.status_code == 201 and added.json["practices"][0]["code"] == "inclusive-care"
    assert count(content_ctx, Module) == before + 1


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_nul_characters_are_refused_not_a_500(client, tokens, content_ctx, database):
    admin = tokens.headers()
    before = count(content_ctx, Series)
    assert_problem(client.post("/series", json=new_series(title="a\u0000b"), headers=admin), 422, "title")
    assert_problem(client.get("/series", query_string={"cursor": "x\u0000"}, headers=admin), 422, "cursor")
    assert_problem(client.get("/series/abc%00def", headers=admin), 404)
    assert count(content_ctx, Series) == before
