"""Absolute URLs a service hands out start with its configured public URL, whatever the request's headers say."""

from __future__ import annotations

from dataclasses import replace

from tests.helpers import auth

FORGED = {
    "Host": "attacker.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Host": "attacker.example",
    "X-Forwarded-Prefix": "/phish",
    "Forwarded": "host=attacker.example;proto=http",
}


def _client(ctx, create_app, public_url: str):
    ctx.config = replace(ctx.config, public_base_url=public_url)
    return create_app(ctx).test_client()


def test_link_headers_start_with_the_configured_public_url_not_the_request_host(content_ctx, scheduling_ctx, tokens):
    from services.content.app import create_app as content_app
    from services.scheduling.app import create_app as scheduling_app

    content = _client(content_ctx, content_app, "https://content.your-state.gov")
    scheduling = _client(scheduling_ctx, scheduling_app, "https://api.your-state.gov/scheduling")
    series_id = content.get("/series", headers=tokens.headers()).json["items"][0]["id"]
    lists = [
        (
            content,
            f"/series/{series_id}/modules?limit=2",
            auth(tokens, ("facilitator", "CA", "fac-ca")),
            f"https://content.your-state.gov/series/{series_id}/modules?limit=2&cursor=",
        ),
        (
            scheduling,
            "/jurisdictions?limit=2",
            auth(tokens, ("jurisdiction_admin", "CA", "admin-ca")),
            "https://api.your-state.gov/scheduling/jurisdictions?limit=2&cursor=",
        ),
    ]
    for client, path, headers, expected in lists:
        for extra in ({}, FORGED):
            response = client.get(path, headers={**headers, **extra})
            assert response.status_code == 200, response.get_data(as_text=True)
            link = response.headers["Link"]
            assert link.startswith(f"<{expected}{response.json['next_cursor']}>"), link
            assert link.endswith('>; rel="next"') and "attacker" not in link and "gopher" not in link
