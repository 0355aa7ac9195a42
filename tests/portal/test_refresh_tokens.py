"""When the access token of an OpenID Connect sign-in expires: the portal renews it with the refresh token
(rotated by the provider), and without one, or when the provider refuses it, sends the person to sign in
again and back to where they were going. A real HTTP identity provider and a real HTTP API that verifies
every token it is given."""

from __future__ import annotations

import json
import re
import threading
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.portal.app import create_app
from shared.auth import public_pem_from_private
from tests.portal.test_pages import IdentityProvider, config


class Api:
    """The scheduling API as far as ``/my/training`` needs it: it verifies each bearer token as the
    services do (signature, issuer, audience, expiry) and remembers which tokens it was given."""

    def __init__(self, provider: IdentityProvider):
        self.public = public_pem_from_private(provider.key)
        self.issuer = provider.issuer
        self.tokens: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def app(self, environ, start_response):
        request = Request(environ)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            jwt.decode(token, self.public, algorithms=["RS256"], audience="t4t-platform", issuer=self.issuer)
        except jwt.PyJWTError:
            response = Response(json.dumps({"status": 401, "title": "Unauthorized"}), 401)
            return response(environ, start_response)
        self.tokens.append(token)
        if request.path != "/me/registrations":
            return Response("{}", 404)(environ, start_response)
        return Response(json.dumps({"items": []}), content_type="application/json")(environ, start_response)


@pytest.fixture
def servers():
    made = []

    def make(refresh: bool):
        provider = IdentityProvider(refresh=refresh)
        api = Api(provider)
        made.extend([provider, api])
        return provider, api

    yield make
    for server in made:
        server.server.shutdown()


def portal(tmp_path, provider, api):
    app = create_app(config(tmp_path, oidc_issuer=provider.issuer, oidc_client_id="t4t-portal", scheduling_url=api.url))
    return app, app.test_client()


def sign_in_with_provider(client, provider, next_path: str = "/my/training"):
    """The authorization code flow, the provider's part played by hand (it would show its own sign-in page)."""
    location = urlparse(client.get(f"/sign-in?next={next_path}").headers["Location"])
    assert location.netloc == urlparse(provider.issuer).netloc
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    provider.codes[f"code-{query['state']}"] = {"challenge": query["code_challenge"], "nonce": query["nonce"]}
    return client.get(f"/auth/callback?code=code-{query['state']}&state={query['state']}")


def expire_access_token(client) -> None:
    """The access token's expiry as the portal keeps it, moved to the past (rather than waiting 5 minutes)."""
    with client.session_transaction() as session:
        session["user"] = {**session["user"], "expires": int(time.time()) - 1}


def session_user(client) -> dict | None:
    with client.session_transaction() as session:
        return session.get("user")


def test_an_expired_access_token_is_renewed_with_the_refresh_token_and_the_page_shows(tmp_path, servers):
    provider, api = servers(refresh=True)
    app, client = portal(tmp_path, provider, api)
    assert sign_in_with_provider(client, provider).headers["Location"] == "/my/training"
    first = session_user(client)
    assert first["refresh"] in provider.refresh_tokens
    assert client.get("/my/training").status_code == 200
    assert api.tokens[-1] == first["token"]

    expire_access_token(client)
    page = client.get("/my/training")
    assert page.status_code == 200 and page.headers["X-API-Calls"] == "1"
    renewed = session_user(client)
    assert provider.grants[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh"],
        "client_id": "t4t-portal",
    }
    assert renewed["token"] != first["token"] and api.tokens[-1] == renewed["token"]
    assert renewed["expires"] > time.time() + 200
    # The provider rotated the refresh token: the portal keeps the new one, and the old one is spent.
    assert renewed["refresh"] != first["refresh"] and first["refresh"] not in provider.refresh_tokens
    assert (renewed["sub"], renewed["name"], renewed["roles"]) == ("ana-ruiz", "Ana Ruiz", ["participant"])

    expire_access_token(client)
    assert client.get("/my/training").status_code == 200
    assert provider.grants[-1]["refresh_token"] == renewed["refresh"]
    assert api.tokens[-1] == session_user(client)["token"] != renewed["token"]


def test_without_a_refresh_token_the_person_signs_in_again_and_comes_back_to_the_page(tmp_path, servers):
    provider, api = servers(refresh=False)
    app, client = portal(tmp_path, provider, api)
    sign_in_with_provider(client, provider)
    assert "refresh" not in session_user(client)
    expire_access_token(client)
    page = client.get("/my/training?show=all")
    assert page.status_code == 302 and page.headers["Location"] == "/sign-in?next=/my/training?show%3Dall"
    assert page.headers["X-API-Calls"] == "0" and api.tokens == []  # the expired token went nowhere
    # The sign-in page sends the person to the provider, and the provider's answer back to that page.
    back = sign_in_with_provider(client, provider, next_path="/my/training?show%3Dall")
    assert back.headers["Location"] == "/my/training?show=all"
    assert client.get("/my/training?show=all").status_code == 200


def test_a_refused_refresh_token_ends_the_sign_in_and_keeps_where_the_person_was_going(tmp_path, servers):
    provider, api = servers(refresh=True)
    app, client = portal(tmp_path, provider, api)
    sign_in_with_provider(client, provider)
    provider.refresh_tokens.clear()  # revoked at the provider (signed out elsewhere, or too old)
    expire_access_token(client)
    page = client.get("/my/training")
    assert page.status_code == 302 and page.headers["Location"] == "/sign-in?next=/my/training"
    assert session_user(client) is None
    assert provider.grants[-1]["grant_type"] == "refresh_token"
    assert api.tokens == []


def test_a_form_sent_after_the_sign_in_expired_comes_back_to_its_page(tmp_path, servers):
    provider, api = servers(refresh=False)
    app, client = portal(tmp_path, provider, api)
    sign_in_with_provider(client, provider)
    page = client.get("/my/training").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    expire_access_token(client)
    form = {"zone": "Pacific/Guam", "csrf_token": token}
    answer = client.post("/my/zone", data=form, headers={"Referer": "http://localhost/my/training?show=all"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/sign-in?next=/my/training?show%3Dall"
    # Another site's address is never where the portal sends a person.
    answer = client.post("/my/zone", data=form, headers={"Referer": "http://evil.example/phish"})
    assert answer.headers["Location"] == "/sign-in?next=/"


def test_a_provider_that_does_not_answer_the_refresh_gives_a_plain_page_and_keeps_the_sign_in(tmp_path, servers):
    provider, api = servers(refresh=True)
    app, client = portal(tmp_path, provider, api)
    sign_in_with_provider(client, provider)
    expire_access_token(client)
    provider.server.shutdown()
    provider.server.server_close()
    page = client.get("/my/training")
    assert page.status_code == 503
    assert "The sign-in service could not answer just now" in page.get_data(as_text=True)
    assert session_user(client)["refresh"], "a provider that is down has not refused anything"


def test_the_requests_of_one_page_renew_the_token_once(tmp_path, servers):
    """A page and the script beside it find the token expired together: one exchange, whose answer both use
    (a second use of a rotated refresh token would be refused, and may revoke the sign-in)."""
    provider, api = servers(refresh=True)
    app, client = portal(tmp_path, provider, api)
    sign_in_with_provider(client, provider)
    expire_access_token(client)
    with client.session_transaction() as session:
        data = dict(session["user"])
    oidc = app.extensions["oidc"]
    renewed = []
    barrier = threading.Barrier(4)

    def request_of_the_page():
        with app.test_request_context():
            barrier.wait()
            assert oidc.refresh(data)
            from flask import session

            renewed.append(session["user"]["token"])

    threads = [threading.Thread(target=request_of_the_page) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(renewed) == 4 and len(set(renewed)) == 1
    assert [g["grant_type"] for g in provider.grants].count("refresh_token") == 1
