"""Bearer tokens checked against a real local OpenID Connect provider whose keys rotate, fail and hang.

The provider is a real HTTP server in a thread publishing ``/.well-known/jwks.json``; the content
service verifies tokens against it over HTTP, as it would against Keycloak, Entra ID, Okta or Auth0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from packaging.requirements import Requirement
from structlog.testing import capture_logs

from shared.testing import AUDIENCE, ISSUER, wait_until
from tests.conftest import config_overrides, migrated_context

PROBLEM = "application/problem+json"
GOOD_KID = "key-1"


class IdentityProvider:
    """A local OpenID Connect provider: it signs tokens and publishes its keys; the test rotates or breaks it.

    ``mode`` is how its JWKS endpoint answers: ``ok``, ``500``, ``html``, ``empty`` (``{"keys": []}``)
    or ``hang`` (no answer until the test ends).
    """

    def __init__(self):
        self.private: dict[str, object] = {}
        self.published: list[str] = []
        self.mode = "ok"
        self.fetches = 0
        self._released = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                provider.fetches += 1
                if provider.mode == "hang":
                    provider._released.wait(30)
                    return
                status, kind, body = provider.answer()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up first

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.jwks_url = f"http://127.0.0.1:{self._server.server_port}/.well-known/jwks.json"

    def answer(self) -> tuple[int, str, bytes]:
        if self.mode == "500":
            return 500, "application/json", b'{"error": "internal"}'
        if self.mode == "html":
            return 200, "text/html", b"<html><body>Sign in to continue</body></html>"
        if self.mode == "empty":
            return 200, "application/json", b'{"keys": []}'
        return 200, "application/json", json.dumps({"keys": [self.jwk(kid) for kid in self.published]}).encode()

    def add_key(self, kid: str, *, kind: str = "rsa", publish: bool = True) -> None:
        if kind == "rsa":
            self.private[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.private[kid] = ec.generate_private_key(ec.SECP256R1())
        if publish:
            self.published.append(kid)

    def rotate_to(self, kid: str) -> None:
        """Publish ``kid`` alone: every other key is withdrawn."""
        if kid not in self.private:
            self.add_key(kid, publish=False)
        self.published[:] = [kid]

    def jwk(self, kid: str) -> dict:
        key = self.private[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            return {
                **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())),
                "kid": kid,
                "use": "sig",
                "alg": "RS256",
            }
        return {
            **json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())),
            "kid": kid,
            "use": "sig",
            "alg": "ES256",
        }

    def token(
        self,
        kid: str = GOOD_KID,
        *,
        signing_kid: str | None = None,
        algorithm: str | None = None,
        headers: dict | None = None,
        **claims,
    ) -> str:
        key = self.private[signing_kid or kid]
        algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        return jwt.encode(claims_for(**claims), key, algorithm=algorithm, headers={"kid": kid, **(headers or {})})

    def public_pem(self, kid: str) -> bytes:
        return (
            self.private[kid]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


def claims_for(**overrides) -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "fac-ca-1",
        "tenant": "CA",
        "roles": ["facilitator"],
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:
    """A token built by hand, as an attacker would: PyJWT refuses to sign most of these."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.json


@pytest.fixture
def idp():
    provider = IdentityProvider()
    provider.add_key(GOOD_KID)
    yield provider
    provider.close()


@pytest.fixture
def service(database, broker, signing_key_file, tmp_path, idp):
    """Build the content service verifying tokens against ``idp``, with identity settings overridden."""
    from services.content.app import create_app
    from services.content.config import ContentConfig

    built = []

    def build(**settings):
        overrides = {
            **config_overrides(database, broker, signing_key_file, tmp_path),
            "storage_dir": str(tmp_path / "files"),
            "jwt_jwks_url": idp.jwks_url,
            **settings,
        }
        ctx = migrated_context("content", ContentConfig, overrides)
        built.append(ctx)
        app = create_app(ctx)
        app.config["TESTING"] = True
        return app

    yield build
    for ctx in built:
        ctx.db.dispose()


# --- What held before, kept -----------------------------------------------------------------------


def test_forged_tokens_are_refused_and_nothing_is_fetched_from_where_a_token_points(service, idp):
    """HS256 signed with the public key, alg none, keys embedded or linked in the header, odd kids: 401."""
    attacker_hits = []

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self):
            attacker_hits.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    attacker = ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    lure = f"http://127.0.0.1:{attacker.server_port}/jwks.json"
    client = service(jwt_algorithms=("RS256", "ES256")).test_client()
    try:
        assert client.get("/series", headers=bearer(idp.token())).status_code == 200
        own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        own_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(own.public_key()))
        public_pem = idp.public_pem(GOOD_KID)
        forged = {
            "HS256 keyed with the provider's public key": hand_made(
                {"alg": "HS256", "typ": "JWT", "kid": GOOD_KID},
                claims_for(),
                lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
            ),
            "alg none": hand_made({"alg": "none", "typ": "JWT", "kid": GOOD_KID}, claims_for()),
            "alg None": hand_made({"alg": "None", "kid": GOOD_KID}, claims_for()),
            "own key embedded as jwk": jwt.encode(
                claims_for(), own, algorithm="RS256", headers={"kid": GOOD_KID, "jwk": own_jwk}
            ),
            "own key behind jku": jwt.encode(
                claims_for(), own, algorithm="RS256", headers={"kid": "attacker-1", "jku": lure}
            ),
            "own key behind x5u": jwt.encode(
                claims_for(), own, algorithm="RS256", headers={"kid": "attacker-2", "x5u": lure}
            ),
        }
        odd_kids = ["../../../../etc/passwd", "x" * 5000, 123, None, "", {"$ne": ""}, ["key-1"]]
        for kid in odd_kids:
            forged[f"kid {str(kid)[:20]!r}"] = hand_made(
                {"alg": "RS256", "kid": kid}, claims_for(), lambda data: idp.private[GOOD_KID].sign(data, *_pkcs1())
            )
        for name, token in forged.items():
            response = client.get("/series", headers=bearer(token))
            assert response.status_code == 401, (name, response.get_data(as_text=True))
            assert response.mimetype == PROBLEM and "Traceback" not in response.get_data(as_text=True)
        assert attacker_hits == []
    finally:
        attacker.shutdown()
        attacker.server_close()


def _pkcs1():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


# --- Keys and verified tokens are trusted for a bounded time --------------------------------------


def test_a_key_removed_from_the_jwks_is_refused_within_the_refresh_interval(service, idp):
    """The token verified a moment ago (and kept in the verified-token cache) is refused too."""
    client = service(jwt_jwks_refresh_seconds=0.5, jwt_jwks_max_age_seconds=60).test_client()
    old = idp.token(GOOD_KID)
    assert client.get("/series", headers=bearer(old)).status_code == 200
    idp.rotate_to("key-2")
    removed = time.monotonic()
    wait_until(
        lambda: client.get("/series", headers=bearer(old)).status_code == 401,
        timeout=5,
        message="the withdrawn key's token to be refused",
    )
    assert time.monotonic() - removed < 0.5 + 1.5
    assert client.get("/series", headers=bearer(idp.token(GOOD_KID, sub="fresh"))).status_code == 401
    assert client.get("/series", headers=bearer(idp.token("key-2"))).status_code == 200


def test_verified_tokens_are_kept_for_the_cache_ttl_not_until_they_expire():
    """A verified token is re-checked after JWT_VERIFIED_CACHE_SECONDS, whatever its exp says."""
    from shared.auth import TokenVerifier

    provider = IdentityProvider()
    try:
        provider.add_key(GOOD_KID)
        verifier = TokenVerifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            algorithms=("RS256",),
            public_key_pem=provider.public_pem(GOOD_KID),
            cache_seconds=1.0,
        )
        token = provider.token(exp=int(time.time()) + 3600)
        # Made before the clock starts: on a busy machine making a key takes longer than the TTL.
        other_key = serialization.load_pem_public_key(
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        verifier.verify(token)
        verifier._public_key = other_key
        assert verifier.verify(token).sub == "fac-ca-1"  # still within the TTL
        time.sleep(1.05)
        with pytest.raises(Exception, match="invalid token"):
            verifier.verify(token)
    finally:
        provider.close()


# --- A failing provider: back-off, 503 with Retry-After, readiness ---------------------------------


@pytest.mark.parametrize("mode", ["500", "html", "empty"])
def test_a_failing_provider_is_asked_once_then_backed_off_and_callers_get_503(service, idp, mode):
    app = service(jwt_jwks_min_refetch_seconds=0.5)
    client = app.test_client()
    idp.mode = mode
    for _ in range(20):
        response = client.get(
            "/series", headers=bearer(idp.token(GOOD_KID, headers={"kid": uuid.uuid4().hex}, signing_kid=GOOD_KID))
        )
        body = assert_problem(response, 503)
        assert int(response.headers["Retry-After"]) >= 1
        text = json.dumps(body)
        assert "Expecting value" not in text and "html" not in text.lower() and "500" not in text
    assert idp.fetches == 1
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "degraded"
    assert ready.json["checks"]["identity_provider"].startswith("unavailable")
    # Once the provider answers again, the next fetch after the back-off brings the keys.
    idp.mode = "ok"
    wait_until(
        lambda: client.get("/series", headers=bearer(idp.token())).status_code == 200,
        timeout=5,
        interval=0.2,
        message="the provider's keys after its recovery",
    )
    assert client.get("/readyz").json["checks"]["identity_provider"] == "ok"


def test_pyjwt_pin_excludes_versions_without_the_key_algorithm_binding_the_code_relies_on():
    """PyJWK keys are passed to jwt.decode: before 2.13 their algorithm was not bound to the header's."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    pin = next(Requirement(d) for d in pyproject["project"]["dependencies"] if d.lower().startswith("pyjwt"))
    assert not pin.specifier.contains("2.12.1") and not pin.specifier.contains("2.10.0")
    assert pin.specifier.contains(jwt.__version__)


# --- A hanging provider holds no request thread -------------------------------------------------


def test_a_hanging_provider_holds_no_request_thread(service, idp):
    app = service(jwt_jwks_timeout_seconds=1.0, jwt_jwks_min_refetch_seconds=3)
    known = idp.token()
    assert app.test_client().get("/series", headers=bearer(known)).status_code == 200
    idp.mode = "hang"
    time.sleep(3.1)  # past the refetch limit: the next unknown kid fetches (and hangs)
    fetches = idp.fetches

    def unknown_kid_request(_):
        started = time.monotonic()
        response = app.test_client().get(
            "/series", headers=bearer(idp.token(GOOD_KID, headers={"kid": uuid.uuid4().hex}, signing_kid=GOOD_KID))
        )
        return response.status_code, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=60) as pool:
        bad = [pool.submit(unknown_kid_request, i) for i in range(60)]
        wait_until(lambda: idp.fetches > fetches, timeout=5, message="a fetch to hang")
        started = time.monotonic()
        assert app.test_client().get("/series", headers=bearer(known)).status_code == 200
        cached_key_wait = time.monotonic() - started
        results = [future.result(timeout=10) for future in bad]
    assert cached_key_wait < 0.5, f"a request with a cached key waited {cached_key_wait:.2f}s"
    assert {status for status, _ in results} == {503}
    slowest = max(elapsed for _, elapsed in results)
    assert slowest < 3.5, f"an unknown-kid request waited {slowest:.2f}s"
    assert idp.fetches == fetches + 1
    # Right after the failed fetch, nobody waits on the provider again.
    started = time.monotonic()
    status, _ = unknown_kid_request(0)
    assert status == 503 and time.monotonic() - started < 0.3
    assert idp.fetches == fetches + 1


# --- Never a 500: malformed keys and answers -----------------------------------------------------


def test_a_token_naming_an_ec_key_with_rs256_is_a_401_not_a_500(service, idp):
    idp.add_key("ec-1", kind="ec")
    client = service(jwt_algorithms=("RS256", "ES256")).test_client()
    assert client.get("/series", headers=bearer(idp.token("ec-1"))).status_code == 200
    mismatched = idp.token("ec-1", signing_kid=GOOD_KID, algorithm="RS256")
    body = assert_problem(client.get("/series", headers=bearer(mismatched)), 401)
    assert "Traceback" not in json.dumps(body)
    # Where only RS256 is accepted, the EC key is not offered at all.
    rs_only = service().test_client()
    assert_problem(rs_only.get("/series", headers=bearer(mismatched)), 401)
    assert_problem(rs_only.get("/series", headers=bearer(idp.token("ec-1"))), 401)


def test_malformed_keys_in_the_jwks_are_skipped_and_the_good_ones_kept(service, idp, monkeypatch):
    good = idp.answer

    def with_junk():
        status, kind, body = good()
        keys = json.loads(body)["keys"]
        junk = [
            "not a key",
            {"kty": "RSA", "kid": "bad-1", "n": "!!", "e": "AQAB"},
            {"kid": 7, "kty": "RSA"},
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "XYZ", "kid": "odd"},
        ]
        return status, kind, json.dumps({"keys": junk + keys}).encode()

    monkeypatch.setattr(idp, "answer", with_junk)
    client = service().test_client()
    assert client.get("/series", headers=bearer(idp.token())).status_code == 200
    assert_problem(client.get("/series", headers=bearer(idp.token("bad-1", signing_kid=GOOD_KID))), 401)


# --- Rotation: a new key is trusted within seconds ----------------------------------------------


def test_a_new_key_is_trusted_within_the_refetch_limit_and_made_up_kids_cannot_flood_the_provider(service, idp):
    client = service(jwt_jwks_min_refetch_seconds=1.0).test_client()
    assert client.get("/series", headers=bearer(idp.token())).status_code == 200
    idp.add_key("key-2")  # the provider publishes its next key and signs with it at once
    rotated = time.monotonic()
    wait_until(
        lambda: client.get("/series", headers=bearer(idp.token("key-2"))).status_code == 200,
        timeout=5,
        interval=0.1,
        message="the new key to be trusted",
    )
    assert time.monotonic() - rotated < 1.0 + 1.0
    fetches = idp.fetches
    for _ in range(30):
        made_up = idp.token(GOOD_KID, headers={"kid": uuid.uuid4().hex}, signing_kid=GOOD_KID)
        assert_problem(client.get("/series", headers=bearer(made_up)), 401)
    assert idp.fetches - fetches <= 1


# --- Claims of real providers -------------------------------------------------------------------

GUID = "9188040d-6c67-4c5b-b112-36a304b66dad"
PROVIDERS = {
    "Keycloak": (
        {
            "JWT_AUDIENCE": "account",
            "JWT_ROLES_CLAIM": "realm_access.roles",
            "JWT_TENANT_CLAIM": "jurisdiction",
            "JWT_ROLE_MAP": "t4t-coach=coach,t4t-admin=jurisdiction_admin",
        },
        {
            "aud": "account",
            "jurisdiction": "CA",
            "realm_access": {"roles": ["t4t-coach", "offline_access", "uma_authorization"]},
        },
        ("CA", {"coach"}),
    ),
    "Entra ID": (
        {"JWT_TENANT_CLAIM": "tid", "JWT_TENANT_MAP": f"{GUID}=GU", "JWT_ROLE_MAP": "Coaches=coach"},
        {"tid": GUID, "roles": ["Coaches", "Facilitator.ReadWrite"]},
        ("GU", {"coach"}),
    ),
    "Okta": (
        {
            "JWT_ROLES_CLAIM": "groups",
            "JWT_TENANT_CLAIM": "jurisdiction",
            "JWT_ROLE_MAP": "T4T Specialists=specialist,T4T Coaches=coach",
        },
        {"groups": ["Everyone", "T4T Specialists", "T4T Coaches"], "jurisdiction": "PR"},
        ("PR", {"specialist", "coach"}),
    ),
    "Auth0": (
        {"JWT_ROLES_CLAIM": "https://t4t.example/roles", "JWT_TENANT_CLAIM": "https://t4t.example/tenant"},
        {"https://t4t.example/roles": ["facilitator"], "https://t4t.example/tenant": "TX"},
        ("TX", {"facilitator"}),
    ),
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_each_providers_claims_map_to_a_tenant_and_roles_through_the_environment(service, idp, monkeypatch, provider):
    settings, claims, (tenant, roles) = PROVIDERS[provider]
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    from shared.http import api

    app = service(jwt_audience=settings.get("JWT_AUDIENCE", AUDIENCE))
    base = {k: v for k, v in claims_for().items() if k not in ("tenant", "roles")}
    token = jwt.encode({**base, **claims}, idp.private[GOOD_KID], algorithm="RS256", headers={"kid": GOOD_KID})
    with app.test_request_context("/series", headers=bearer(token)):
        who = api.principal()
    assert (who.tenant, set(who.roles)) == (tenant, roles)
    assert app.test_client().get("/series", headers=bearer(token)).status_code == 200


def test_role_names_the_platform_does_not_know_are_logged_once(service, idp, monkeypatch):
    monkeypatch.setenv("JWT_ROLE_MAP", "Coaches=coach")
    client = service().test_client()
    unknown = f"Coachez-{uuid.uuid4().hex[:6]}"
    with capture_logs() as logs:
        for _ in range(3):
            token = idp.token(roles=["Coaches", unknown], sub=uuid.uuid4().hex)
            assert client.get("/series", headers=bearer(token)).status_code == 200
    warnings = [entry for entry in logs if entry["log_level"] == "warning" and unknown in entry.get("roles", [])]
    assert len(warnings) == 1 and "JWT_ROLE_MAP" in warnings[0]["event"]


def test_a_role_map_naming_no_platform_role_fails_at_start_up(monkeypatch):
    from shared.config import CommonConfig, ConfigError

    monkeypatch.setenv("JWT_ROLE_MAP", "Coaches=coaches")
    with pytest.raises(ConfigError, match="JWT_ROLE_MAP"):
        CommonConfig.common_from_env("content")
