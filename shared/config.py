"""Typed configuration read once from environment variables, with laptop-safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is present but unusable; raised at start-up so a process fails fast."""


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def env_floats(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in env_list(name, tuple(str(d) for d in default)))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a comma-separated list of numbers") from exc


def env_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """``a=b,c=d`` as ((a, b), (c, d)); the last ``=`` splits, so a name may itself hold one."""
    pairs = []
    for part in env_list(name, ()):
        key, sep, value = part.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{name} must be a comma-separated list of name=value, got {part!r}")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def data_dir() -> Path:
    """Where the embedded default keeps its files (SQLite, broker folder, uploads, keys)."""
    return Path(env_str("DATA_DIR", str(REPO_ROOT / "var"))).resolve()


@dataclass(frozen=True)
class CommonConfig:
    """Settings every service shares; each service extends it with its own.

    Attributes:
        service: the service's name; also its PostgreSQL schema and its queue prefix.
        database_url: SQLAlchemy URL. ``<SERVICE>_DATABASE_URL`` wins over ``DATABASE_URL``.
        db_schema: PostgreSQL schema holding this service's tables (ignored on SQLite).
        broker_url: kombu URL; ``filesystem://`` (embedded) or ``amqp://``.
        broker_folder: folder of the filesystem transport (shared by every process).
        broker_namespace: prefix for exchange and queue names (tests isolate themselves with it);
            it ends with its separator: BROKER_NAMESPACE=staging gives queues named ``staging.scheduling...``.
        broker_prefetch: messages a consumer holds unacknowledged (BROKER_PREFETCH); at least four
            times ``consumer_batch_size`` when batching, so the next batches arrive while one commits.
        consumer_batch_size: messages of one queue handled in one transaction (CONSUMER_BATCH_SIZE;
            1, one by one, unless the service says otherwise; see ``shared.messaging.consumer``).
        jwt_*: bearer token verification settings.
        retry_delays: seconds a failed message waits before each retry; then it is dead-lettered.
        idempotency_key_ttl_hours: how long an ``Idempotency-Key``'s answer is replayed.
        outbox_retention_hours, inbox_retention_hours: how long sent events and the record of
            handled events are kept before the worker's housekeeping prunes them.
        housekeeping_interval_seconds: how often the worker prunes.
        public_base_url: how people and state systems reach this service (``<SERVICE>_PUBLIC_URL``, such as
            ``https://scheduling.your-state.gov``; by default ``http://127.0.0.1:<SERVICE>_PORT``). Every
            absolute URL the service hands out (``Link`` headers, calendar feeds, certificates) starts with
            it, never with the request's ``Host`` or ``X-Forwarded-*`` headers, which any client can forge.
    """

    service: str
    database_url: str
    db_schema: str
    broker_url: str
    broker_folder: str
    broker_namespace: str
    broker_connect_timeout: float
    broker_prefetch: int
    consumer_batch_size: int
    retry_delays: tuple[float, ...]
    relay_batch_size: int
    relay_poll_interval: float
    jwt_issuer: str
    jwt_audience: str
    jwt_algorithms: tuple[str, ...]
    jwt_jwks_url: str
    jwt_public_key_file: str
    jwt_dev_private_key_file: str
    # Identity provider: where the roles and tenant are in its tokens, and how long its keys are trusted.
    jwt_roles_claim: str
    jwt_tenant_claim: str
    jwt_role_map: tuple[tuple[str, str], ...]
    jwt_tenant_map: tuple[tuple[str, str], ...]
    jwt_jwks_refresh_seconds: float
    jwt_jwks_max_age_seconds: float
    jwt_jwks_min_refetch_seconds: float
    jwt_jwks_timeout_seconds: float
    jwt_verified_cache_seconds: float
    page_size_default: int
    page_size_max: int
    max_request_bytes: int
    log_level: str
    idempotency_key_ttl_hours: int
    outbox_retention_hours: int
    inbox_retention_hours: int
    housekeeping_interval_seconds: int
    public_base_url: str

    @classmethod
    def common_from_env(cls, service: str, *, default_port: int = 8000) -> dict:
        """Read the shared settings for ``service`` (listening on ``default_port`` by default) from the environment."""
        base = data_dir()
        prefix = service.upper()
        database_url = env_str(
            f"{prefix}_DATABASE_URL",
            env_str("DATABASE_URL", f"sqlite:///{base / (service + '.db')}"),
        )
        values = dict(
            service=service,
            database_url=database_url,
            db_schema=env_str(f"{prefix}_DB_SCHEMA", env_str("DB_SCHEMA", service)),
            broker_url=env_str("BROKER_URL", "filesystem://"),
            broker_folder=env_str("BROKER_FOLDER", str(base / "broker")),
            broker_namespace=namespace_prefix(env_str("BROKER_NAMESPACE", "")),
            broker_connect_timeout=env_float("BROKER_CONNECT_TIMEOUT", 5.0),
            broker_prefetch=env_int("BROKER_PREFETCH", 20, minimum=1),
            consumer_batch_size=env_int("CONSUMER_BATCH_SIZE", 1, minimum=1),
            retry_delays=env_floats("RETRY_DELAYS", (1.0, 10.0, 60.0)),
            relay_batch_size=env_int("OUTBOX_BATCH_SIZE", 200, minimum=1),
            relay_poll_interval=env_float("OUTBOX_POLL_INTERVAL", 0.2),
            jwt_issuer=env_str("JWT_ISSUER", "http://localhost/dev-issuer"),
            jwt_audience=env_str("JWT_AUDIENCE", "t4t-platform"),
            jwt_algorithms=env_list("JWT_ALGORITHMS", ("RS256",)),
            jwt_jwks_url=env_str("JWT_JWKS_URL", ""),
            jwt_public_key_file=env_str("JWT_PUBLIC_KEY_FILE", ""),
            jwt_dev_private_key_file=env_str("JWT_DEV_PRIVATE_KEY_FILE", str(base / "dev-signing-key.pem")),
            jwt_roles_claim=env_str("JWT_ROLES_CLAIM", "roles"),
            jwt_tenant_claim=env_str("JWT_TENANT_CLAIM", "tenant"),
            jwt_role_map=env_pairs("JWT_ROLE_MAP"),
            jwt_tenant_map=env_pairs("JWT_TENANT_MAP"),
            jwt_jwks_refresh_seconds=env_float("JWT_JWKS_REFRESH_SECONDS", 300.0),
            jwt_jwks_max_age_seconds=env_float("JWT_JWKS_MAX_AGE_SECONDS", 3600.0),
            jwt_jwks_min_refetch_seconds=env_float("JWT_JWKS_MIN_REFETCH_SECONDS", 5.0),
            jwt_jwks_timeout_seconds=env_float("JWT_JWKS_TIMEOUT_SECONDS", 3.0),
            jwt_verified_cache_seconds=env_float("JWT_VERIFIED_CACHE_SECONDS", 60.0),
            page_size_default=env_int("PAGE_SIZE_DEFAULT", 50, minimum=1),
            page_size_max=env_int("PAGE_SIZE_MAX", 200, minimum=1),
            max_request_bytes=env_int("MAX_REQUEST_BYTES", 1_048_576, minimum=1024),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
            idempotency_key_ttl_hours=env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24, minimum=1),
            outbox_retention_hours=env_int("OUTBOX_RETENTION_HOURS", 7 * 24, minimum=1),
            inbox_retention_hours=env_int("INBOX_RETENTION_HOURS", 30 * 24, minimum=1),
            housekeeping_interval_seconds=env_int("HOUSEKEEPING_INTERVAL_SECONDS", 600, minimum=1),
            public_base_url=env_str(
                f"{prefix}_PUBLIC_URL", f"http://127.0.0.1:{env_str(f'{prefix}_PORT', str(default_port))}"
            ),
        )
        validate_common(values)
        return values


def validate_common(values: dict) -> None:
    url = values["database_url"]
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
    if values["broker_url"].split(":", 1)[0] not in {"filesystem", "amqp", "pyamqp", "memory"}:
        raise ConfigError("BROKER_URL must be filesystem:// or amqp://user:pass@host:port/vhost")
    if values["page_size_default"] > values["page_size_max"]:
        raise ConfigError("PAGE_SIZE_DEFAULT cannot exceed PAGE_SIZE_MAX")
    if not values["retry_delays"]:
        raise ConfigError("RETRY_DELAYS needs at least one delay")
    _validate_identity(values)
    public = urlsplit(values["public_base_url"])
    if public.scheme not in ("http", "https") or not public.netloc or public.query or public.fragment:
        raise ConfigError(
            f"{values['service'].upper()}_PUBLIC_URL must be an http:// or https:// URL "
            f"without query, such as https://{values['service']}.your-state.gov"
        )
    values["public_base_url"] = values["public_base_url"].rstrip("/")
    schema = values["db_schema"]
    if not schema.replace("_", "").isalnum():
        raise ConfigError("DB_SCHEMA may hold letters, digits and underscores only")


def _validate_identity(values: dict) -> None:
    from shared.auth import ROLES

    for provider_name, role in values["jwt_role_map"]:
        if role not in ROLES:
            raise ConfigError(
                f"JWT_ROLE_MAP maps {provider_name!r} to {role!r}, which is not a platform "
                f"role (one of {', '.join(ROLES)})"
            )
    for name in ("jwt_jwks_refresh_seconds", "jwt_jwks_max_age_seconds", "jwt_jwks_timeout_seconds"):
        if values[name] <= 0:
            raise ConfigError(f"{name.upper()} must be more than 0")
    for name in ("jwt_jwks_min_refetch_seconds", "jwt_verified_cache_seconds"):
        if values[name] < 0:
            raise ConfigError(f"{name.upper()} cannot be negative")
    if values["jwt_jwks_max_age_seconds"] < values["jwt_jwks_refresh_seconds"]:
        raise ConfigError("JWT_JWKS_MAX_AGE_SECONDS cannot be less than JWT_JWKS_REFRESH_SECONDS")


def namespace_prefix(namespace: str) -> str:
    """``namespace`` as a prefix of broker names: "staging" and "staging." both give "staging."."""
    return namespace if not namespace or namespace.endswith(".") else namespace + "."


def without_password(url: str) -> str:
    """``url`` safe to print or log: its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def describe_broker(url: str, folder: str) -> str:
    """The broker as a person reads it in logs and the start-up banner: never a password."""
    return f"filesystem broker in {folder}" if url.startswith("filesystem") else without_password(url)


def config_fields(cls) -> list[str]:
    return [f.name for f in fields(cls)]
