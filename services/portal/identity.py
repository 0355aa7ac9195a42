"""Who is signed in: OpenID Connect (authorization code with PKCE) in production, a development sign-in otherwise.

The portal keeps the person's access token in its signed session cookie and forwards it to the APIs,
which verify it (docs/identity.md); what the portal reads of the token (name, roles, jurisdiction) only
shapes the navigation, never a permission.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode, urlsplit, urlunsplit
from zoneinfo import available_timezones

import jwt
import requests
from flask import current_app, flash, g, redirect, request, session, url_for

from services.portal.backend import Unavailable
from shared.auth import ROLES, load_or_create_dev_key, mint_token, tenant_refusal
from shared.jurisdictions import is_jurisdiction

DEV_TOKEN_HOURS = 8
# Renew an access token this long before it expires, so that it does not expire between the portal's
# check and the API's.
REFRESH_MARGIN_SECONDS = 30
# How long a process remembers the answer to a refresh, for the other requests of the same page.
RENEWED_KEPT_SECONDS = 60
ZONES = frozenset(available_timezones())

# The demo people of the development sign-in: the subs the README's walkthrough uses.
DEMO_USERS = (
    ("agency_coordinator", "CA", "dev-agency_coordinator-ca", "Casey Coordinator"),
    ("facilitator", "CA", "dev-facilitator-ca", "Fran Facilitator"),
    ("specialist", "CA", "dev-specialist-ca", "Sam Specialist"),
    ("participant", "CA", "dev-participant-ca", "Ana López"),
    ("jurisdiction_admin", "CA", "dev-jurisdiction_admin-ca", "Alex Admin"),
    ("national_admin", "US", "dev-national_admin-us", "Nat National"),
)


@dataclass(frozen=True)
class User:
    sub: str
    name: str
    roles: tuple[str, ...]
    tenant: str
    token: str
    zone: str | None

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def manages(self) -> bool:
        return self.has("national_admin", "jurisdiction_admin", "agency_coordinator")


def current_user() -> User | None:
    data = session.get("user")
    if not data or data.get("expires", 0) <= time.time():
        return None
    return User(
        sub=data["sub"],
        name=data.get("name") or data["sub"],
        roles=tuple(data.get("roles", ())),
        tenant=data.get("tenant", ""),
        token=data["token"],
        zone=data.get("zone"),
    )


def fresh_user() -> User | None:
    """The signed-in person, their access token renewed first if it has expired (or is about to).

    Renewal needs a refresh token, which only an identity provider gives (and not every one, nor to
    every client); without one, or when the provider refuses it, the person is no longer signed in.
    """
    data = session.get("user")
    if data and data.get("refresh") and data.get("expires", 0) - REFRESH_MARGIN_SECONDS <= time.time():
        provider = current_app.extensions["oidc"]
        if provider is None or not provider.refresh(data):
            session.pop("user", None)
    return current_user()


def signed_in(view):
    """The view needs a signed-in person; others go to the sign-in page and come back afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.user = fresh_user()
        if g.user is None:
            return redirect(url_for("identity.sign_in", next=_coming_back_to()))
        return view(*args, **kwargs)

    return wrapper


def _coming_back_to() -> str:
    """Where to return after signing in: this page; for a form, the page it was sent from."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        return urlunsplit(("", "", referrer.path, referrer.query, ""))
    return url_for("people.home")


def safe_next(target: str | None) -> str:
    """Only a path of this portal: an open redirect would hand a person's session to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("people.home")


def zone_or_none(value: str | None) -> str | None:
    return value if value in ZONES else None


def start_session(*, token: str, claims: dict, zone: str | None, refresh: str | None = None) -> None:
    session.clear()
    session["user"] = _user_data(token, claims, zone=zone, refresh=refresh)
    session.permanent = True


def _user_data(token: str, claims: dict, *, zone: str | None, refresh: str | None) -> dict:
    data = {
        "sub": claims["sub"],
        "name": claims.get("name") or claims.get("preferred_username") or claims["sub"],
        "roles": [r for r in claims.get("roles", []) if r in ROLES] if isinstance(claims.get("roles"), list) else [],
        "tenant": str(claims.get("tenant", "")),
        "token": token,
        "expires": int(claims.get("exp", time.time() + 3600)),
        "zone": zone,
    }
    if refresh:
        data["refresh"] = refresh
    return data


def development_sign_in(form) -> dict[str, str]:
    """Mint a development token as ``make token`` does; the field errors when the choice cannot be signed."""
    config = current_app.config["PORTAL"]
    role = form.get("role", "")
    tenant = form.get("tenant", "").strip().upper()
    sub = form.get("sub", "").strip() or f"dev-{role}-{tenant.lower()}"
    name = form.get("name", "").strip()
    errors = {}
    if role not in ROLES:
        errors["role"] = "Choose a role."
    elif refusal := tenant_refusal(tenant, {role}, known=is_jurisdiction):
        errors["tenant"] = refusal
    if len(sub) > 200 or not sub.isprintable():
        errors["sub"] = "A user id is up to 200 printable characters."
    if len(name) > 200 or not name.isprintable():
        errors["name"] = "A name is up to 200 printable characters."
    if errors:
        return errors
    key = load_or_create_dev_key(config.jwt_dev_private_key_file)
    token = mint_token(
        key,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        sub=sub,
        tenant=tenant,
        roles=[role],
        ttl_seconds=DEV_TOKEN_HOURS * 3600,
        name=name,
    )
    claims = {"sub": sub, "name": name, "roles": [role], "tenant": tenant, "exp": time.time() + DEV_TOKEN_HOURS * 3600}
    start_session(token=token, claims=claims, zone=zone_or_none(form.get("zone")))
    return {}


class OpenIdProvider:
    """The configured identity provider: discovery, the authorization request and the code exchange."""

    def __init__(self, config, http: requests.Session):
        self.config = config
        self.http = http
        self._metadata: dict | None = None
        self._keys: jwt.PyJWKClient | None = None
        self._refresh_lock = threading.Lock()
        self._renewed: dict[str, tuple[dict, float]] = {}  # refresh token -> (its answer, when)

    def metadata(self) -> dict:
        if self._metadata is None:
            url = f"{self.config.oidc_issuer}/.well-known/openid-configuration"
            response = self.http.get(url, timeout=self.config.api_timeout)
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    def redirect_uri(self) -> str:
        return self.config.public_url + url_for("identity.callback")

    def authorization_url(self, next_path: str) -> str:
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        session["oidc"] = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path}
        query = {
            "response_type": "code",
            "client_id": self.config.oidc_client_id,
            "redirect_uri": self.redirect_uri(),
            "scope": self.config.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}"

    def finish(self, args) -> str:
        """Exchange the code for tokens, check the ID token, start the session; the path to return to."""
        pending = session.pop("oidc", None)
        if not pending or not secrets.compare_digest(args.get("state", ""), pending["state"]):
            raise PermissionError("The sign-in expired or did not start here. Sign in again.")
        if "error" in args:
            raise PermissionError(
                f"The identity provider refused the sign-in: {args.get('error_description') or args['error']}."
            )
        body = {
            "grant_type": "authorization_code",
            "code": args.get("code", ""),
            "redirect_uri": self.redirect_uri(),
            "client_id": self.config.oidc_client_id,
            "code_verifier": pending["verifier"],
        }
        if self.config.oidc_client_secret:
            body["client_secret"] = self.config.oidc_client_secret
        response = self.http.post(self.metadata()["token_endpoint"], data=body, timeout=self.config.api_timeout)
        if response.status_code != 200:
            raise PermissionError("The identity provider did not accept the sign-in. Sign in again.")
        tokens = response.json()
        claims = self._id_claims(tokens["id_token"])
        if claims.get("nonce") != pending["nonce"]:
            raise PermissionError("The sign-in answer was not for this browser. Sign in again.")
        # The access token's claims only shape the navigation; the APIs verify the token itself.
        access = _access_claims(tokens)
        shown = {**access, "name": claims.get("name") or claims.get("preferred_username") or access.get("name")}
        start_session(token=tokens["access_token"], claims=shown, zone=None, refresh=_refresh_token(tokens))
        return pending["next"]

    def refresh(self, data: dict) -> bool:
        """Renew the session's access token with its refresh token; False when the provider refuses it.

        The requests of one page (and of the attendance script beside it) may all find the token
        expired at once: within a process they make one exchange, and the others take its answer,
        since a provider that rotates refresh tokens refuses the second use of one (and may revoke
        the whole sign-in for it).
        """
        old = data["refresh"]
        with self._refresh_lock:
            now = time.monotonic()
            self._renewed = {k: v for k, v in self._renewed.items() if v[1] > now - RENEWED_KEPT_SECONDS}
            tokens = self._renewed.get(old, (None, 0))[0]
            if tokens is None:
                tokens = self._exchange(old)
                if tokens is None:
                    return False
                self._renewed[old] = (tokens, now)
        try:
            access = _access_claims(tokens)
            if "id_token" in tokens and self._id_claims(tokens["id_token"]).get("sub") != data["sub"]:
                return False
        except (jwt.PyJWTError, KeyError):
            return False
        if access.get("sub") != data["sub"] or access.get("exp", float("inf")) <= time.time():
            return False
        shown = {**access, "name": data.get("name")}
        session["user"] = _user_data(
            tokens["access_token"], shown, zone=data.get("zone"), refresh=_refresh_token(tokens) or old
        )
        return True

    def _exchange(self, refresh_token: str) -> dict | None:
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.config.oidc_client_id}
        if self.config.oidc_client_secret:
            body["client_secret"] = self.config.oidc_client_secret
        try:
            response = self.http.post(self.metadata()["token_endpoint"], data=body, timeout=self.config.api_timeout)
        except requests.RequestException as error:
            raise Unavailable("identity", type(error).__name__) from error
        if response.status_code >= 500:
            raise Unavailable("identity", f"status {response.status_code}")
        if response.status_code != 200:
            return None  # refused (expired, revoked, reused): the person signs in again
        try:
            tokens = response.json()
        except ValueError:
            return None
        return tokens if isinstance(tokens, dict) and isinstance(tokens.get("access_token"), str) else None

    def _id_claims(self, id_token: str) -> dict:
        if self._keys is None:
            self._keys = jwt.PyJWKClient(self.metadata()["jwks_uri"], timeout=int(self.config.api_timeout))
        return jwt.decode(
            id_token,
            self._keys.get_signing_key_from_jwt(id_token).key,
            algorithms=["RS256", "ES256", "PS256"],
            audience=self.config.oidc_client_id,
            issuer=self.config.oidc_issuer,
        )


def _access_claims(tokens: dict) -> dict:
    return jwt.decode(tokens["access_token"], options={"verify_signature": False})


def _refresh_token(tokens: dict) -> str | None:
    value = tokens.get("refresh_token")
    return value if isinstance(value, str) and value else None


def sign_out() -> None:
    session.clear()
    flash("You are signed out.")
