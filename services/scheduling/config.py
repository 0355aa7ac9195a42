"""Scheduling's configuration: the common settings plus attendance window and roster limits."""

from __future__ import annotations

from dataclasses import dataclass

from services.scheduling import SERVICE
from shared.config import CommonConfig, env_int


@dataclass(frozen=True)
class SchedulingConfig(CommonConfig):
    """Attributes beyond CommonConfig:

    attendance_opens_minutes: attendance may be marked from this long before a session starts.
    max_roster_bytes: largest roster CSV accepted (SCHEDULING_MAX_ROSTER_BYTES).
    """

    attendance_opens_minutes: int = 30
    max_roster_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides) -> SchedulingConfig:
        values = cls.common_from_env(SERVICE, default_port=8002)
        values["attendance_opens_minutes"] = env_int("ATTENDANCE_OPENS_MINUTES", 30, minimum=0)
        values["max_roster_bytes"] = env_int("SCHEDULING_MAX_ROSTER_BYTES", 2 * 1024 * 1024, minimum=1024)
        values.update(overrides)
        values["max_request_bytes"] = max(values["max_request_bytes"], values["max_roster_bytes"] + 64 * 1024)
        return cls(**values)
