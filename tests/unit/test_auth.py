"""Token verification and API keys, without HTTP."""

import time

import pytest

from shared.auth import (
    AuthError,
    TokenVerifier,
    api_key_matches,
    api_key_prefix,
    generate_private_key_pem,
    hash_api_key,
    load_or_create_dev_key,
    mint_token,
    new_api_key,
    public_pem_from_private,
)

KEY = generate_private_key_pem()
VERIFIER = TokenVerifier(
    issuer="iss", audience="aud", algorithms=("RS256",), public_key_pem=public_pem_from_private(KEY)
)


def token(**kw):
    args = dict(issuer="iss", audience="aud", sub="u1", tenant="CA", roles=["facilitator"])
    args.update(kw)
    return mint_token(KEY, **args)


def test_valid_token_gives_the_principal():
    who = VERIFIER.verify(token(roles=["facilitator", "made-up-role"]))
    assert (who.sub, who.tenant, who.roles) == ("u1", "CA", frozenset({"facilitator"}))


@pytest.mark.parametrize(
    "bad",
    [
        dict(issuer="other"),
        dict(audience="other"),
        dict(ttl_seconds=-120),
        dict(now=time.time() + 3600),
    ],
)
def test_wrong_issuer_audience_or_time_is_refused(bad):
    with pytest.raises(AuthError):
        VERIFIER.verify(token(**bad))


def test_missing_tenant_is_refused():
    with pytest.raises(AuthError):
        VERIFIER.verify(token(tenant=""))


def test_the_verifier_maps_the_tenant_and_leaves_admission_to_the_service():
    """Which jurisdictions a service serves is the service's to say (its registry knows its Tribes)."""
    assert VERIFIER.verify(token(tenant="NAVAJO-NATION")).tenant == "NAVAJO-NATION"


def test_api_keys_have_a_visible_prefix_and_are_compared_by_hash():
    key, prefix, stored = new_api_key()
    assert key.startswith(f"t4tk_{prefix}_") and api_key_prefix(key) == prefix
    assert stored == hash_api_key(key) and api_key_matches(key, stored)
    assert not api_key_matches(key + "x", stored)
    assert api_key_prefix("Bearer abc") is None


def test_dev_key_is_created_once(tmp_path):
    path = tmp_path / "k.pem"
    assert load_or_create_dev_key(path) == load_or_create_dev_key(path)


def test_production_verifies_against_the_identity_providers_jwks():
    """A real HTTP server publishes the JWKS; the token names its key by kid."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import jwt
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_public_key(public_pem_from_private(KEY))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwks = json.dumps({"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        verifier = TokenVerifier(
            issuer="iss",
            audience="aud",
            algorithms=("RS256",),
            jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json",
        )
        claims = {
            "iss": "iss",
            "aud": "aud",
            "sub": "u2",
            "tenant": "AS",
            "roles": ["coach"],
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        }
        token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "key-1"})
        assert verifier.verify(token).tenant == "AS"
        unknown_kid = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "key-2"})
        with pytest.raises(AuthError):
            verifier.verify(unknown_kid)
        # A key the token carries itself is never trusted (RFC 8725): only the JWKS counts.
        other = generate_private_key_pem()
        embedded = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "key-1", "jwk": jwk})
        with pytest.raises(AuthError):
            verifier.verify(embedded)
    finally:
        server.shutdown()


def test_each_key_signs_its_own_tokens_once_loaded():
    """Keys are loaded once and kept: a token is still signed by the key it was minted with, never another."""
    other = generate_private_key_pem()
    elsewhere = TokenVerifier(
        issuer="iss", audience="aud", algorithms=("RS256",), public_key_pem=public_pem_from_private(other)
    )
    for _ in range(2):  # the second round signs with the kept keys
        ours, theirs = (
            token(),
            mint_token(other, issuer="iss", audience="aud", sub="u2", tenant="TX", roles=["facilitator"]),
        )
        assert VERIFIER.verify(ours).sub == "u1" and elsewhere.verify(theirs).sub == "u2"
        with pytest.raises(AuthError):
            VERIFIER.verify(theirs)
        with pytest.raises(AuthError):
            elsewhere.verify(ours)
