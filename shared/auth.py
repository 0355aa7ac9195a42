"""Who is calling: bearer JWT verification, API keys for state systems, roles and tenant checks.

The tenant always comes from verified claims (or the API key's row), never from a header or body.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

NATIONAL_ADMIN = "national_admin"
JURISDICTION_ADMIN = "jurisdiction_admin"
AGENCY_COORDINATOR = "agency_coordinator"
SPECIALIST = "specialist"
COACH = "coach"
FACILITATOR = "facilitator"
PARTICIPANT = "participant"
INTEGRATION = "integration"
ROLES = (
    NATIONAL_ADMIN,
    JURISDICTION_ADMIN,
    AGENCY_COORDINATOR,
    SPECIALIST,
    COACH,
    FACILITATOR,
    PARTICIPANT,
    INTEGRATION,
)
API_KEY_PREFIX = "t4tk_"


class AuthError(Exception):
    """The credentials are missing or invalid (401)."""


@dataclass(frozen=True)
class Principal:
    """The verified caller."""

    sub: str
    tenant: str
    roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    via: str = "jwt"

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_national(self) -> bool:
        return NATIONAL_ADMIN in self.roles


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_or_create_dev_key(path: str | Path) -> bytes:
    """The embedded default's local signing key, created once and shared by every process."""
    path = Path(path)
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pem)
    os.chmod(tmp, 0o600)
    try:
        # link() fails if another process won the race, so everyone ends up with one key.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def public_pem_from_private(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def mint_token(private_pem: bytes, *, issuer: str, audience: str, sub: str, tenant: str,
               roles: list[str], ttl_seconds: int = 8 * 3600, name: str = "",
               algorithm: str = "RS256", now: float | None = None) -> str:
    """Sign a token the way the identity provider would (development and tests)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "tenant": tenant,
        "roles": list(roles),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, private_pem, algorithm=algorithm)


class TokenVerifier:
    """Verifies bearer JWTs against a JWKS URL (production) or a local public key (embedded)."""

    def __init__(self, *, issuer: str, audience: str, algorithms: tuple[str, ...],
                 jwks_url: str = "", public_key_pem: bytes | None = None, leeway: int = 30,
                 cache_size: int = 10_000):
        if not jwks_url and not public_key_pem:
            raise ValueError("a JWKS URL or a public key is required")
        self.issuer = issuer
        self.audience = audience
        # Pinned here, never taken from the token header (no "alg": "none", no HS/RS confusion).
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        # Parsed once: PyJWT would otherwise parse the PEM on every request.
        self._public_key = serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        # A client sends the same token many times; its verified claims are kept until it expires.
        self._verified: dict[str, tuple[float, Principal]] = {}
        self._cache_size = cache_size

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            expires, who = cached
            if time.time() < expires + self.leeway:
                return who
            del self._verified[token]
        who, expires = self._verify(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()  # cheap bound; re-verifying is only a little slower
        self._verified[token] = (expires, who)
        return who

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            else:
                key = self._public_key
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        tenant = claims.get("tenant")
        roles = claims.get("roles")
        if not isinstance(tenant, str) or not tenant:
            raise AuthError("invalid token: tenant claim missing")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError("invalid token: roles claim must be a list of strings")
        return Principal(
            sub=str(claims["sub"]),
            tenant=tenant,
            roles=frozenset(r for r in roles if r in ROLES),
            name=str(claims.get("name", "")),
        ), float(claims["exp"])


def verifier_from_config(config) -> TokenVerifier:
    if config.jwt_jwks_url:
        return TokenVerifier(issuer=config.jwt_issuer, audience=config.jwt_audience,
                             algorithms=config.jwt_algorithms, jwks_url=config.jwt_jwks_url)
    if config.jwt_public_key_file:
        public = Path(config.jwt_public_key_file).read_bytes()
    else:
        public = public_pem_from_private(load_or_create_dev_key(config.jwt_dev_private_key_file))
    return TokenVerifier(issuer=config.jwt_issuer, audience=config.jwt_audience,
                         algorithms=config.jwt_algorithms, public_key_pem=public)


# --- API keys -------------------------------------------------------------------------------

def new_api_key() -> tuple[str, str, str]:
    """Return (the key shown once, its visible prefix, the SHA-256 hash to store)."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    rest = key[len(API_KEY_PREFIX):]
    prefix, sep, _ = rest.partition("_")
    return prefix if sep and len(prefix) == 8 else None


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
