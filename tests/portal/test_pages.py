"""The portal's behaviour that needs no browser: failures shown plainly, sign-in (development and OpenID Connect),
redirects kept on the portal, and the attendance sync's refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.portal.app import create_app
from services.portal.backend import BackendError
from services.portal.config import Config
from shared.auth import generate_private_key_pem, public_pem_from_private


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def config(tmp_path, **overrides) -> Config:
    values = dict(
        content_url=f"http://127.0.0.1:{closed_port()}",
        scheduling_url=f"http://127.0.0.1:{closed_port()}",
        coaching_url="",
        api_timeout=2.0,
        api_pool_size=4,
        secret_key="test-secret",
        oidc_issuer="",
        oidc_client_id="",
        oidc_client_secret="",
        oidc_scopes="openid profile",
        jwt_issuer="http://localhost/dev-issuer",
        jwt_audience="t4t-platform",
        jwt_dev_private_key_file=str(tmp_path / "dev-key.pem"),
        public_url="http://portal.test",
        log_level="WARNING",
    )
    return Config(**(values | overrides))


@pytest.fixture
def client(tmp_path):
    return create_app(config(tmp_path)).test_client()


def csrf_token(client) -> str:
    """The token a page of the portal puts in its forms for this client's session."""
    page = client.get("/sign-in").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, role="agency_coordinator", tenant="CA"):
    form = {"role": role, "tenant": tenant, "name": "Casey", "next": "/cohorts", "csrf_token": csrf_token(client)}
    return client.post("/sign-in", data=form)


def test_a_service_that_does_not_answer_shows_a_plain_message_never_a_trace(client):
    sign_in(client)
    page = client.get("/cohorts")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "The scheduling service could not answer just now" in text
    assert "Traceback" not in text and "ConnectionError" not in text
    assert page.headers["X-API-Calls"] == "1"


def test_development_sign_in_mints_a_token_the_services_accept_and_marks_every_page(client, tmp_path):
    # Scheduling does not answer here: entering her in the facilitators' directory waits for her next
    # sign-in, and never stands in the way of this one (the browser flows see a sign-in enter her).
    answer = sign_in(client, role="facilitator")
    assert answer.status_code == 302 and answer.headers["Location"] == "/cohorts"
    with client.session_transaction() as session:
        token = session["user"]["token"]
    public = public_pem_from_private((tmp_path / "dev-key.pem").read_bytes())
    claims = jwt.decode(
        token, public, algorithms=["RS256"], audience="t4t-platform", issuer="http://localhost/dev-issuer"
    )
    assert (claims["sub"], claims["tenant"], claims["roles"]) == ("dev-facilitator-ca", "CA", ["facilitator"])
    assert "Development sign-in" in client.get("/verify").get_data(as_text=True)


def test_development_sign_in_refuses_an_unknown_jurisdiction_next_to_its_field(client):
    page = client.post("/sign-in", data={"role": "participant", "tenant": "XX", "csrf_token": csrf_token(client)})
    assert page.status_code == 422
    assert 'id="tenant-error"' in page.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_returns_only_to_a_page_of_the_portal(client, target):
    form = {"role": "participant", "tenant": "CA", "next": target, "csrf_token": csrf_token(client)}
    answer = client.post("/sign-in", data=form)
    assert answer.headers["Location"] == "/"


def test_pages_need_a_signed_in_person(client):
    answer = client.get("/my/training")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/sign-in?next=/my/training")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "marks"),
        ({"marks": []}, "marks"),
        ({"marks": [{"registration_id": "r", "status": "present", "marked_at": "2026-01-01T00:00:00Z"}]}, "0.key"),
        (
            {"marks": [{"key": "k", "registration_id": "r", "status": "late", "marked_at": "2026-01-01T00:00Z"}]},
            "0.status",
        ),
        (
            {"marks": [{"key": "k", "registration_id": "r", "status": "partial", "marked_at": "2026-01-01T00:00Z"}]},
            "0.minutes",
        ),
        (
            {"marks": [{"key": "k", "registration_id": "r", "status": "absent", "marked_at": "yesterday"}]},
            "0.marked_at",
        ),
        (
            {"marks": [{"key": "k", "registration_id": "r", "status": "absent", "marked_at": "2026-01-01T00:00"}]},
            "0.marked_at",
        ),
    ],
)
def test_queued_marks_of_a_bad_shape_are_refused_before_any_call(client, body, field):
    sign_in(client, role="facilitator")
    answer = client.post("/sessions/s1/attendance/marks", json=body, headers={"X-CSRF-Token": csrf_token(client)})
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]
    assert answer.headers["X-API-Calls"] == "0"


def test_an_api_problem_becomes_one_message_per_field():
    problem = {"errors": {"email": ["Not a valid email address."], "records": {"1": {"minutes": ["Required."]}}}}
    assert BackendError(422, problem).field_errors == {
        "email": "Not a valid email address.",
        "records.1.minutes": "Required.",
    }


class IdentityProvider:
    """A real HTTP server playing the identity provider: discovery, keys and a token endpoint that checks PKCE.

    With ``refresh=True`` it also gives refresh tokens and rotates them as careful providers do: each
    one is good for one exchange, which returns a new access token and a new refresh token.
    """

    def __init__(self, refresh: bool = False):
        self.key = generate_private_key_pem()
        self.codes: dict[str, dict] = {}
        self.refresh = refresh
        self.refresh_tokens: dict[str, str] = {}  # the ones still good -> their sub
        self.grants: list[dict] = []  # every token request's form, in order
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tokens(self, sub: str, *, nonce: str | None) -> dict:
        now = int(time.time())
        common = {"iss": self.issuer, "sub": sub, "iat": now, "exp": now + 300, "jti": secrets.token_hex(8)}
        id_claims = {**common, "aud": "t4t-portal", "name": "Ana Ruiz"} | ({"nonce": nonce} if nonce else {})
        body = {
            "access_token": jwt.encode(
                {**common, "aud": "t4t-platform", "roles": ["participant"], "tenant": "CA"}, self.key, "RS256"
            ),
            "id_token": jwt.encode(id_claims, self.key, "RS256", headers={"kid": "k1"}),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if self.refresh:
            body["refresh_token"] = secrets.token_urlsafe(24)
            self.refresh_tokens[body["refresh_token"]] = sub
        return body

    def app(self, environ, start_response):
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            body = {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
            }
        elif request.path == "/jwks":
            public = serialization.load_pem_public_key(public_pem_from_private(self.key))
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
            body = {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        elif request.path == "/token":
            self.grants.append(dict(request.form))
            refused = Response(json.dumps({"error": "invalid_grant"}), 400, content_type="application/json")
            if request.form.get("grant_type") == "refresh_token":
                sub = self.refresh_tokens.pop(request.form.get("refresh_token", ""), None)  # used up
                if sub is None or request.form.get("client_id") != "t4t-portal":
                    return refused(environ, start_response)
                body = self.tokens(sub, nonce=None)
            else:
                grant = self.codes.pop(request.form.get("code", ""), None)
                verifier = request.form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if grant is None or challenge != grant["challenge"]:
                    return refused(environ, start_response)
                body = self.tokens("ana-ruiz", nonce=grant["nonce"])
        else:
            return Response("not found", 404)(environ, start_response)
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)


@pytest.fixture
def provider():
    running = IdentityProvider()
    yield running
    running.server.shutdown()


def test_openid_connect_sign_in_with_pkce(tmp_path, provider):
    app = create_app(config(tmp_path, oidc_issuer=provider.issuer, oidc_client_id="t4t-portal"))
    client = app.test_client()
    answer = client.get("/sign-in?next=/my/training")
    location = urlparse(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/authorize"
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"] == "http://portal.test/auth/callback"
    assert "Development sign-in" not in client.get("/verify").get_data(as_text=True)

    provider.codes["the-code"] = {"challenge": query["code_challenge"], "nonce": query["nonce"]}
    assert client.get("/auth/callback?code=the-code&state=forged").status_code == 400
    # A forged state ends the attempt: the person starts again, and the real answer then succeeds.
    query = {
        k: v[0]
        for k, v in parse_qs(urlparse(client.get("/sign-in?next=/my/training").headers["Location"]).query).items()
    }
    provider.codes["the-code"] = {"challenge": query["code_challenge"], "nonce": query["nonce"]}
    back = client.get(f"/auth/callback?code=the-code&state={query['state']}")
    assert back.status_code == 302 and back.headers["Location"] == "/my/training"
    with client.session_transaction() as session:
        user = session["user"]
    assert (user["sub"], user["name"], user["roles"], user["tenant"]) == ("ana-ruiz", "Ana Ruiz", ["participant"], "CA")


def test_every_page_names_the_portal_icon_and_it_is_served(client):
    page = client.get("/sign-in").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data


def test_my_adaptations_tells_someone_who_does_not_facilitate_where_adaptations_come_from(client):
    sign_in(client, role="specialist")
    page = client.get("/my/adaptations")
    assert page.status_code == 200 and page.headers["X-API-Calls"] == "0"
    text = page.get_data(as_text=True)
    assert "Adaptations are written by facilitators" in text and 'href="/coach/adaptations"' not in text
    assert "Start the draft" not in text


def test_a_facilitator_is_told_beside_the_fields_what_a_draft_needs_before_any_call(client):
    sign_in(client, role="facilitator")
    answer = client.post("/my/adaptations", data={"module_id": "", "title": "", "csrf_token": csrf_token(client)})
    # Refused before the create call; the page's two reads then find the content service closed.
    assert answer.status_code == 503 and answer.headers["X-API-Calls"] == "2"


def test_my_training_hours_tells_someone_who_takes_no_training_where_hours_are_kept(client):
    sign_in(client, role="facilitator")
    page = client.get("/my/hours")
    assert page.status_code == 200 and page.headers["X-API-Calls"] == "0"
    text = page.get_data(as_text=True)
    assert "Training hours are kept for the participants" in text and "Report it" not in text
