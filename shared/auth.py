"""Who is calling: bearer JWT verification, API keys for state systems, roles and tenant checks.

The tenant always comes from verified claims (or the API key's row), never from a header or body.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import InvalidInput
from shared.jurisdictions import NATIONAL, is_jurisdiction
from shared.logging import get_logger
from shared.text import TextRefused, clean_text, is_blank

log = get_logger("auth")

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
    def display_name(self) -> str:
        """The token's name as pages and documents print it: spaces collapsed, at most 200 characters
        (the columns that keep it); empty when the token names nobody."""
        return " ".join(self.name.split())[:200]

    def name_to_enter(self) -> str:
        """``display_name``, for a person entering themselves by name (a facilitator, a specialist);
        refused when the token names nobody, since there is nothing to enter."""
        if not self.display_name:
            raise InvalidInput(
                "Your sign-in gives no name (the token has no `name` claim), so there is nothing to enter.",
                errors={"name": ["Your sign-in gives no name."]},
            )
        return self.display_name

    @property
    def is_national(self) -> bool:
        return NATIONAL_ADMIN in self.roles


SUBJECT_MAX = 200  # the subject columns' width


def subject_in_path(sub: str) -> str:
    """A subject named in a path (``/facilitators/{sub}``), held to the rules of one in a body."""
    try:
        refused = None if clean_text(sub) == sub else "Must not start or end with spaces."
    except TextRefused as exc:
        refused = str(exc)
    if refused is None and (is_blank(sub) or len(sub) > SUBJECT_MAX):
        refused = f"Must be 1 to {SUBJECT_MAX} visible characters."
    if refused:
        raise InvalidInput("This is not a subject an identity provider gives.", errors={"sub": [refused]})
    return sub


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
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def mint_token(
    private_pem: bytes,
    *,
    issuer: str,
    audience: str,
    sub: str,
    tenant: str,
    roles: list[str],
    ttl_seconds: int = 8 * 3600,
    name: str = "",
    algorithm: str = "RS256",
    now: float | None = None,
) -> str:
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
    return jwt.encode(claims, _signing_key(private_pem), algorithm=algorithm)


@functools.lru_cache(maxsize=16)
def _signing_key(private_pem: bytes):
    """The private key, loaded once: loading a PEM checks the RSA key, which takes some 40 ms, and the
    tests, the benches and the development sign-in sign many tokens with one key."""
    return serialization.load_pem_private_key(private_pem, password=None)


class IdentityProviderUnavailable(Exception):
    """The identity provider's keys cannot be fetched just now, so a token cannot be checked (503)."""

    def __init__(self, retry_after: int):
        super().__init__("the identity provider cannot be reached")
        self.retry_after = retry_after


def tenant_refusal(
    tenant: str, roles: frozenset[str] | set[str], known: Callable[[str], bool] = is_jurisdiction
) -> str | None:
    """Why a caller of ``tenant`` holding ``roles`` may not act, or None when it may.

    Every row a caller writes carries its tenant, so an unknown code (a typo, ``ca`` for ``CA``) would
    start a jurisdiction nobody can see or clean up. ``known`` says which codes the service serves
    (a service passes its registry, which knows the Tribes it has learnt of; by default the static list).
    """
    if tenant == NATIONAL:
        return (
            None
            if NATIONAL_ADMIN in roles
            else (f"The tenant {NATIONAL!r} (national) is only for the {NATIONAL_ADMIN} role.")
        )
    if not known(tenant):
        return f"The tenant {tenant!r} is not a known jurisdiction code (such as CA, GU or PR; codes are upper-case)."
    return None


@dataclass(frozen=True)
class ClaimMapping:
    """Where a provider's tokens carry the roles and the tenant, and how its names map to ours.

    A claim name is first looked up as a top-level claim (so ``https://t4t.example/roles`` works),
    then as a dotted path into nested claims (``realm_access.roles``).
    """

    roles_claim: str = "roles"
    tenant_claim: str = "tenant"
    role_map: tuple[tuple[str, str], ...] = ()
    tenant_map: tuple[tuple[str, str], ...] = ()

    def claim(self, claims: dict, name: str):
        if name in claims:
            return claims[name]
        value = claims
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


# Distinct unknown role names already logged: a provider adds its own roles to every token
# (offline_access, Everyone…), so each name is reported once per process, not once per request.
_REPORTED_ROLES: set[str] = set()
_REPORTED_ROLES_MAX = 1000


def _report_unknown_roles(names: set[str], claim: str) -> None:
    new = names - _REPORTED_ROLES
    if new and len(_REPORTED_ROLES) < _REPORTED_ROLES_MAX:
        _REPORTED_ROLES.update(new)
        log.warning(
            "token roles not known to the platform are ignored; map them with JWT_ROLE_MAP",
            roles=sorted(new),
            claim=claim,
        )


class JwksError(Exception):
    """The identity provider's JWKS could not be fetched or holds no usable key; the text is a short reason."""


# Which key type each algorithm needs; a key is offered only for the algorithms its type can do.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
JWKS_MAX_BYTES = 1_000_000


class JwksCache:
    """The identity provider's signing keys, fetched from its JWKS URL and trusted for a bounded time.

    - Keys are refreshed in the background ``refresh_seconds`` after the last successful fetch, so a
      key the provider removed is refused at most that long (plus one fetch) after its removal.
    - A token naming an unknown ``kid`` triggers a fetch at once (a newly rotated key), but at most
      one every ``min_refetch_seconds``: tokens with made-up kids cannot make us hammer the provider.
    - After a failed fetch (error status, not JSON, no usable key, timeout) nobody fetches again until
      a back-off passes (doubling from ``min_refetch_seconds`` up to ``MAX_BACKOFF_SECONDS``); requests
      needing a fetch meanwhile get ``IdentityProviderUnavailable`` at once instead of waiting.
    - While the provider is unreachable the keys of the last successful fetch stay trusted up to
      ``max_age_seconds``; after that every token gets ``IdentityProviderUnavailable``.
    - A request whose key is cached never waits for a fetch; one fetch runs at a time, bounded by
      ``timeout_seconds`` in all.
    """

    MAX_BACKOFF_SECONDS = 60.0

    def __init__(
        self,
        url: str,
        *,
        algorithms: tuple[str, ...],
        refresh_seconds: float = 300.0,
        max_age_seconds: float = 3600.0,
        min_refetch_seconds: float = 5.0,
        timeout_seconds: float = 3.0,
        clock=time.monotonic,
    ):
        self.url = url
        self.algorithms = tuple(algorithms)
        self.refresh_seconds = refresh_seconds
        self.max_age_seconds = max_age_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}  # kid -> algorithm -> key
        self._fetched_at: float | None = None  # clock() of the last successful fetch
        self._next_fetch_at = 0.0  # no fetch before this (rate limit, back-off)
        self._failures = 0
        self._problem = ""  # why the last fetch failed ("" when it succeeded)
        self._attempts = 0  # fetches finished, good or bad: a waiter sees whether one ended meanwhile
        self._fetch_lock = threading.Lock()
        self._refreshing = threading.Lock()  # held by the one background refresh running

    def key(self, kid: str, algorithm: str) -> jwt.PyJWK:
        """The published key ``kid`` for ``algorithm``; AuthError if there is none."""
        if not self._usable(kid):
            self._fetch_if_allowed()
        if not self._usable(kid):
            if self._problem:
                raise IdentityProviderUnavailable(self.retry_after())
            if self._fetched_at is None or self._clock() - self._fetched_at >= self.max_age_seconds:
                raise IdentityProviderUnavailable(self.retry_after())
            raise AuthError("invalid token: its key (kid) is not one the identity provider publishes")
        self._refresh_if_due()
        by_algorithm = self._keys[kid]
        if algorithm not in by_algorithm:
            raise AuthError(f"invalid token: its key (kid) cannot verify {algorithm}")
        return by_algorithm[algorithm]

    def trusts(self, kid: str) -> bool:
        """Whether ``kid`` is still published (for tokens verified earlier)."""
        if not self._usable(kid):
            return False
        self._refresh_if_due()
        return True

    def status(self) -> str:
        """ "ok", or why the keys cannot be fetched; starts a background fetch when one is due."""
        self._refresh_if_due()
        if self._problem:
            return f"unavailable: {self._problem}"
        if self._fetched_at is None:
            return "pending: keys not fetched yet"
        return "ok"

    def retry_after(self) -> int:
        return max(1, math.ceil(self._next_fetch_at - self._clock()))

    def _usable(self, kid: str) -> bool:
        fetched_at = self._fetched_at
        return fetched_at is not None and kid in self._keys and self._clock() - fetched_at < self.max_age_seconds

    def _refresh_if_due(self) -> None:
        fetched_at = self._fetched_at
        if fetched_at is None or self._clock() - fetched_at >= self.refresh_seconds:
            self._refresh_in_background()

    def _fetch_if_allowed(self) -> None:
        if self._clock() < self._next_fetch_at:
            return
        attempts = self._attempts
        # Wait for a fetch already running rather than start a second; its own timeout bounds the wait.
        if not self._fetch_lock.acquire(timeout=2 * self.timeout_seconds):
            return
        try:
            if self._attempts == attempts and self._clock() >= self._next_fetch_at:
                self._fetch()
        finally:
            self._fetch_lock.release()

    def _backing_off(self) -> bool:
        return bool(self._problem) and self._clock() < self._next_fetch_at

    def _refresh_in_background(self) -> None:
        # The refetch limit is for unknown kids; a due refresh waits only for a failure's back-off.
        if self._backing_off() or not self._refreshing.acquire(blocking=False):
            return

        def refresh():
            try:
                with self._fetch_lock:
                    if not self._backing_off():
                        self._fetch()
            finally:
                self._refreshing.release()

        threading.Thread(target=refresh, name="jwks-refresh", daemon=True).start()

    def _fetch(self) -> None:
        try:
            keys = self._download()
        except JwksError as exc:
            self._failures += 1
            backoff = min(self.min_refetch_seconds * 2 ** (self._failures - 1), self.MAX_BACKOFF_SECONDS)
            backoff = max(backoff, 1.0)
            self._next_fetch_at = self._clock() + backoff
            self._problem = str(exc)
            log.warning(
                "identity provider keys could not be fetched; trying again later",
                url=self.url,
                problem=str(exc),
                retry_in_seconds=round(backoff, 1),
            )
        else:
            self._keys = keys
            self._fetched_at = self._clock()
            self._next_fetch_at = self._fetched_at + self.min_refetch_seconds
            self._failures = 0
            self._problem = ""
        finally:
            self._attempts += 1

    def _download(self) -> dict[str, dict[str, jwt.PyJWK]]:
        deadline = time.monotonic() + self.timeout_seconds
        try:
            with requests.get(
                self.url, timeout=self.timeout_seconds, stream=True, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise JwksError(f"HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(65536):
                    body += chunk
                    if len(body) > JWKS_MAX_BYTES:
                        raise JwksError("answer too large")
                    if time.monotonic() > deadline:
                        raise JwksError("timed out")
        except requests.Timeout as exc:
            raise JwksError("timed out") from exc
        except requests.RequestException as exc:
            raise JwksError(f"unreachable ({type(exc).__name__})") from exc
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise JwksError("answer is not JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JwksError("answer is not a JWKS (no keys list)")
        keys = self._signing_keys(document["keys"])
        if not keys:
            # Keeping the last good keys beats trusting none: an empty set is a provider fault.
            raise JwksError("JWKS holds no usable signing key")
        return keys

    def _signing_keys(self, entries: list) -> dict[str, dict[str, jwt.PyJWK]]:
        keys: dict[str, dict[str, jwt.PyJWK]] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or not kid or entry.get("kty") == "oct":
                continue  # a token finds its key by kid; shared secrets are never signing keys here
            declared = entry.get("alg")
            for algorithm in self.algorithms:
                if declared is not None and declared != algorithm:
                    continue
                if _KEY_TYPES.get(algorithm[:2]) != entry.get("kty"):
                    continue
                try:
                    keys.setdefault(kid, {})[algorithm] = jwt.PyJWK(entry, algorithm=algorithm)
                except Exception:  # noqa: BLE001 - one malformed key must not hide the provider's others
                    continue
            if kid in keys and not keys[kid]:
                del keys[kid]
        return keys


class TokenVerifier:
    """Verifies bearer JWTs against a JWKS URL (production) or a local public key (embedded)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...],
        jwks_url: str = "",
        public_key_pem: bytes | None = None,
        leeway: int = 30,
        cache_size: int = 10_000,
        cache_seconds: float = 60.0,
        claims: ClaimMapping | None = None,
        jwks: JwksCache | None = None,
    ):
        if not jwks_url and not public_key_pem and jwks is None:
            raise ValueError("a JWKS URL or a public key is required")
        self.issuer = issuer
        self.audience = audience
        # Pinned here, never taken from the token header (no "alg": "none", no HS/RS confusion).
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self.claims = claims or ClaimMapping()
        self._jwks = jwks or (JwksCache(jwks_url, algorithms=tuple(algorithms)) if jwks_url else None)
        # Parsed once: PyJWT would otherwise parse the PEM on every request.
        self._public_key = serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        # A client sends the same token many times; its verified claims are kept briefly, and only
        # while its key is still published.
        self._verified: dict[str, tuple[float, str, Principal]] = {}
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            until, kid, who = cached
            if time.time() < until and (self._jwks is None or self._jwks.trusts(kid)):
                return who
            self._verified.pop(token, None)
        who, expires, kid = self._verify(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()  # cheap bound; re-verifying is only a little slower
        if self._cache_seconds > 0:
            self._verified[token] = (min(expires, time.time() + self._cache_seconds), kid, who)
        return who

    def provider_status(self) -> str:
        """ "ok" when tokens can be checked; for a JWKS, whether its keys can be fetched."""
        return "ok" if self._jwks is None else self._jwks.status()

    def _verify(self, token: str) -> tuple[Principal, float, str]:
        kid = ""
        try:
            if self._jwks is not None:
                kid, algorithm = self._key_id(token)
                key = self._jwks.key(kid, algorithm)
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
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        return self._principal(claims), float(claims["exp"]), kid

    def _key_id(self, token: str) -> tuple[str, str]:
        """The token's kid and alg, checked before any key is looked up (or fetched) for it."""
        header = jwt.get_unverified_header(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.algorithms:
            raise AuthError("invalid token: its signature algorithm is not accepted")
        if not isinstance(kid, str) or not 0 < len(kid) <= 200:
            raise AuthError("invalid token: it names no key (kid)")
        return kid, algorithm

    def _principal(self, claims: dict) -> Principal:
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub.strip():
            raise AuthError("invalid token: sub (the user id) is empty")
        mapping = self.claims
        tenant = mapping.claim(claims, mapping.tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise AuthError(f"invalid token: tenant claim ({mapping.tenant_claim}) missing")
        tenant = dict(mapping.tenant_map).get(tenant, tenant)
        roles = mapping.claim(claims, mapping.roles_claim)
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError(f"invalid token: roles claim ({mapping.roles_claim}) must be a list of strings")
        role_map = dict(mapping.role_map)
        granted = {role_map.get(r, r) for r in roles}
        known = frozenset(granted.intersection(ROLES))
        if granted - known:
            _report_unknown_roles({r for r in roles if role_map.get(r, r) not in ROLES}, mapping.roles_claim)
        return Principal(sub=sub, tenant=tenant, roles=known, name=str(claims.get("name", "")))


def verifier_from_config(config) -> TokenVerifier:
    claims = ClaimMapping(
        roles_claim=config.jwt_roles_claim,
        tenant_claim=config.jwt_tenant_claim,
        role_map=config.jwt_role_map,
        tenant_map=config.jwt_tenant_map,
    )
    common = dict(
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        algorithms=config.jwt_algorithms,
        claims=claims,
        cache_seconds=config.jwt_verified_cache_seconds,
    )
    if config.jwt_jwks_url:
        jwks = JwksCache(
            config.jwt_jwks_url,
            algorithms=config.jwt_algorithms,
            refresh_seconds=config.jwt_jwks_refresh_seconds,
            max_age_seconds=config.jwt_jwks_max_age_seconds,
            min_refetch_seconds=config.jwt_jwks_min_refetch_seconds,
            timeout_seconds=config.jwt_jwks_timeout_seconds,
        )
        return TokenVerifier(jwks=jwks, **common)
    if config.jwt_public_key_file:
        public = Path(config.jwt_public_key_file).read_bytes()
    else:
        public = public_pem_from_private(load_or_create_dev_key(config.jwt_dev_private_key_file))
    return TokenVerifier(public_key_pem=public, **common)


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
    rest = key[len(API_KEY_PREFIX) :]
    prefix, sep, _ = rest.partition("_")
    return prefix if sep and len(prefix) == 8 else None


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), stored_hash)
