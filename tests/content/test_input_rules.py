"""Content's input rules: every text field refuses blank, control, bidi-control and surrogate text and is trimmed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.content.models import Material, Series
from tests.helpers import assert_problem

BACKENDS = ["sqlite", "postgres"]


def count(ctx, model) -> int:
    with ctx.db.session() as db:
        return db.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_series_text_is_trimmed_and_refuses_what_would_disguise_or_break_it(client, tokens, content_ctx, database):
    admin = tokens.headers("national_admin", "US")
    before = count(content_ctx, Series)
    for field, value in [
        ("title", "   "),
        ("title", "\u200b"),
        ("title", "Orientation\u202e"),
        ("title", "Orien\u2067tation"),
        ("title", "Orientation\x1b[2J"),
        ("title", "A\nB"),
        ("slug", "orien\ntation"),
        ("description", "Line one\x0bline two"),
        ("description", "Fine \x9b text"),
        ("objectives", ["Know\u202dthis"]),
    ]:
        body = {"slug": "orientation", "title": "Orientation", field: value}
        problem = assert_problem(client.post("/series", json=body, headers=admin), 422, field)
        assert field in json.dumps(problem["errors"])
    assert count(content_ctx, Series) == before

    made = client.post(
        "/series",
        json={
            "slug": " orientation ",
            "title": "\tOrientation  ",
            "description": " Day one.\r\n\tDay two.\r\n ",
            "objectives": [" Know "],
        },
        headers=admin,
    )
    assert made.status_code == 201, made.json
    assert (made.json["slug"], made.json["title"]) == ("orientation", "Orientation")
    assert made.json["description"] == "Day one.\n\tDay two." and made.json["objectives"] == ["Know"]
    blank = client.post("/series", json={"slug": "blank-description", "title": "T", "description": "  "}, headers=admin)
    assert blank.status_code == 201 and blank.json["description"] == ""


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_video_link_and_a_module_position_are_checked_at_the_door(client, tokens, content_ctx, database):
    admin = tokens.headers("national_admin", "US")
    headers = tokens.headers("facilitator", "CA")
    [series] = client.get("/series", headers=headers).json["items"]
    module = client.get(f"/series/{series['id']}/modules", headers=headers).json["items"][0]
    made = client.post(
        "/materials", json={"module_id": module["id"], "kind": "video_link", "title": "Intro"}, headers=admin
    )
    assert made.status_code == 201, made.json
    versions = f"/materials/{made.json['id']}/versions"
    for url in ("https://video.example.org/watch\u202egpj.exe", "https://video.example.org/\x07"):
        assert_problem(client.post(versions, json={"url": url}, headers=admin), 422, "url")
    kept = client.post(versions, json={"url": " https://video.example.org/intro "}, headers=admin)
    assert kept.status_code == 201 and kept.json["url"] == "https://video.example.org/intro"

    modules = f"/series/{series['id']}/modules"
    for raw in (
        '{"position": "12", "title": "x"}',
        '{"position": 12.5, "title": "x"}',
        '{"position": 1e1, "title": "x"}',
    ):
        assert_problem(
            client.post(modules, data=raw, headers={**admin, "Content-Type": "application/json"}), 422, "position"
        )
    assert count(content_ctx, Material) == 1
