"""Scheduling's configuration: the common settings plus public base URL, attendance window and roster limits."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonConfig, env_int, env_str

from services.scheduling import SERVICE


@dataclass(frozen=True)
class SchedulingConfig(CommonConfig):
    """Attributes beyond CommonConfig:

    public_base_url: how people reach this API, used in feed URLs and certificates (SCHEDULING_PUBLIC_URL).
    attendance_opens_minutes: attendance may be marked from this long before a session starts.
    max_roster_bytes: largest roster CSV accepted (SCHEDULING_MAX_ROSTER_BYTES).
    """

    public_base_url: str = "http://127.0.0.1:8002"
    attendance_opens_minutes: int = 30
    max_roster_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides) -> "SchedulingConfig":
        values = cls.common_from_env(SERVICE)
        values["public_base_url"] = env_str("SCHEDULING_PUBLIC_URL",
                                            f"http://127.0.0.1:{env_str('SCHEDULING_PORT', '8002')}")
        values["attendance_opens_minutes"] = env_int("ATTENDANCE_OPENS_MINUTES", 30, minimum=0)
        values["max_roster_bytes"] = env_int("SCHEDULING_MAX_ROSTER_BYTES", 2 * 1024 * 1024, minimum=1024)
        values.update(overrides)
        values["max_request_bytes"] = max(values["max_request_bytes"], values["max_roster_bytes"] + 64 * 1024)
        return cls(**values)
