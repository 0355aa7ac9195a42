"""Content's configuration: the common settings plus file storage and upload limits."""

from __future__ import annotations

from dataclasses import dataclass

from services.content import SERVICE
from shared.config import CommonConfig, ConfigError, data_dir, env_int, env_str


@dataclass(frozen=True)
class ContentConfig(CommonConfig):
    """Attributes beyond CommonConfig:

    storage_dir: where uploaded files are kept, named by their sha256 (CONTENT_STORAGE_DIR).
    max_upload_bytes: largest accepted file (CONTENT_MAX_UPLOAD_BYTES, default 50 MiB).
    """

    storage_dir: str = ""
    max_upload_bytes: int = 50 * 1024 * 1024

    @classmethod
    def from_env(cls, **overrides) -> ContentConfig:
        values = cls.common_from_env(SERVICE, default_port=8001)
        values["storage_dir"] = env_str("CONTENT_STORAGE_DIR", str(data_dir() / "files"))
        values["max_upload_bytes"] = env_int("CONTENT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024)
        values.update(overrides)
        # An upload's body is the file plus a little multipart framing.
        values["max_request_bytes"] = max(values["max_request_bytes"], values["max_upload_bytes"] + 64 * 1024)
        if not values["storage_dir"]:
            raise ConfigError("CONTENT_STORAGE_DIR must name a folder")
        return cls(**values)
