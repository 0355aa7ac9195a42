"""The portal's settings, read once from the environment and validated."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from shared.config import ConfigError, data_dir, env_float, env_int, env_str


@dataclass(frozen=True)
class Config:
    """Where the APIs are and how people sign in.

    Attributes:
        content_url, scheduling_url: base URLs of the services' APIs (``PORTAL_CONTENT_URL``,
            ``PORTAL_SCHEDULING_URL``; by default the ports ``make run`` uses).
        coaching_url: the coaching API, once it is deployed; empty hides the coach pages.
        notifications_url: the notifications API (``PORTAL_NOTIFICATIONS_URL``); empty hides the page where
            people choose how they hear from the platform.
        api_timeout: seconds the portal waits for an API before it shows a failure page.
        api_pool_size: connections kept open per API (one pooled session per process).
        secret_key: signs the portal's session cookie (``PORTAL_SECRET_KEY``; required with OIDC).
        oidc_issuer, oidc_client_id, oidc_client_secret, oidc_scopes: the identity provider for
            OpenID Connect sign-in (authorization code with PKCE). Empty issuer: development sign-in.
        jwt_issuer, jwt_audience, jwt_dev_private_key_file: what development tokens are minted with,
            the same settings the APIs verify them with.
        public_url: how people reach the portal (the OIDC redirect URI is built on it).
    """

    content_url: str
    scheduling_url: str
    coaching_url: str
    api_timeout: float
    api_pool_size: int
    secret_key: str
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_scopes: str
    jwt_issuer: str
    jwt_audience: str
    jwt_dev_private_key_file: str
    public_url: str
    log_level: str
    notifications_url: str = ""

    @property
    def development_sign_in(self) -> bool:
        """The embedded default: no identity provider, so people pick a demo user and role."""
        return not self.oidc_issuer

    @classmethod
    def from_env(cls) -> Config:
        oidc_issuer = env_str("PORTAL_OIDC_ISSUER", "")
        secret_key = env_str("PORTAL_SECRET_KEY", "")
        if not secret_key:
            if oidc_issuer:
                raise ConfigError("PORTAL_SECRET_KEY is required with PORTAL_OIDC_ISSUER (it signs people's sessions)")
            secret_key = _development_secret(data_dir() / "portal-secret-key")
        config = cls(
            content_url=env_str("PORTAL_CONTENT_URL", f"http://127.0.0.1:{env_str('CONTENT_PORT', '8001')}").rstrip(
                "/"
            ),
            scheduling_url=env_str(
                "PORTAL_SCHEDULING_URL", f"http://127.0.0.1:{env_str('SCHEDULING_PORT', '8002')}"
            ).rstrip("/"),
            coaching_url=env_str("PORTAL_COACHING_URL", "").rstrip("/"),
            api_timeout=env_float("PORTAL_API_TIMEOUT", 10.0),
            api_pool_size=env_int("PORTAL_API_POOL_SIZE", 20, minimum=1),
            secret_key=secret_key,
            oidc_issuer=oidc_issuer.rstrip("/"),
            oidc_client_id=env_str("PORTAL_OIDC_CLIENT_ID", ""),
            oidc_client_secret=env_str("PORTAL_OIDC_CLIENT_SECRET", ""),
            oidc_scopes=env_str("PORTAL_OIDC_SCOPES", "openid profile"),
            jwt_issuer=env_str("JWT_ISSUER", "http://localhost/dev-issuer"),
            jwt_audience=env_str("JWT_AUDIENCE", "t4t-platform"),
            jwt_dev_private_key_file=env_str("JWT_DEV_PRIVATE_KEY_FILE", str(data_dir() / "dev-signing-key.pem")),
            public_url=env_str("PORTAL_PUBLIC_URL", f"http://127.0.0.1:{env_str('PORTAL_PORT', '8000')}").rstrip("/"),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
            notifications_url=env_str("PORTAL_NOTIFICATIONS_URL", "").rstrip("/"),
        )
        if config.oidc_issuer and not config.oidc_client_id:
            raise ConfigError("PORTAL_OIDC_CLIENT_ID is required with PORTAL_OIDC_ISSUER")
        for name in ("content_url", "scheduling_url", "public_url"):
            if not getattr(config, name).startswith(("http://", "https://")):
                raise ConfigError(f"{name.upper()} must be an http(s) URL, not {getattr(config, name)!r}")
        if env_str("JWT_JWKS_URL", "") and not oidc_issuer:
            raise ConfigError(
                "JWT_JWKS_URL is set, so the APIs trust your identity provider only: set PORTAL_OIDC_ISSUER "
                "and PORTAL_OIDC_CLIENT_ID for the portal's sign-in"
            )
        return config


def _development_secret(path: Path) -> str:
    """One secret shared by every portal process of the embedded default, kept beside its other files."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        try:
            with path.open("x") as file:
                file.write(secret)
        except FileExistsError:  # another worker wrote it first
            return path.read_text().strip()
        return secret
