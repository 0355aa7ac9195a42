"""Coaching's configuration: the common settings plus the training-for-trainers series and check interval."""

from __future__ import annotations

from dataclasses import dataclass

from services.coaching import SERVICE
from shared.config import CommonConfig, env_int, env_str


@dataclass(frozen=True)
class CoachingConfig(CommonConfig):
    """Attributes beyond CommonConfig:

    trainer_series: ids of content's series that are the training for trainers, comma-separated
        (COACHING_TRAINER_SERIES); national admins may add more through ``PUT /trainer-series/{id}``.
    check_interval_seconds: how often the worker runs the scheduled checks (COACHING_CHECK_INTERVAL_SECONDS,
        default 300).
    """

    trainer_series: tuple[str, ...] = ()
    check_interval_seconds: int = 300

    @classmethod
    def from_env(cls, **overrides) -> CoachingConfig:
        values = cls.common_from_env(SERVICE, default_port=8003)
        raw = env_str("COACHING_TRAINER_SERIES", "")
        values["trainer_series"] = tuple(part.strip() for part in raw.split(",") if part.strip())
        values["check_interval_seconds"] = env_int("COACHING_CHECK_INTERVAL_SECONDS", 300, minimum=1)
        values.update(overrides)
        return cls(**values)
