"""Configuration is read once, typed and validated: a bad value stops the process with a message."""

import pytest

from services.content.config import ContentConfig
from shared.config import ConfigError


def test_defaults_are_the_embedded_platform(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "CONTENT_DATABASE_URL", "BROKER_URL", "CONTENT_STORAGE_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = ContentConfig.from_env()
    assert config.database_url == f"sqlite:///{tmp_path / 'content.db'}"
    assert config.broker_url == "filesystem://" and config.storage_dir == str(tmp_path / "files")
    assert config.max_request_bytes > config.max_upload_bytes


def test_service_specific_url_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/shared")
    monkeypatch.setenv("CONTENT_DATABASE_URL", "postgresql+psycopg://db/content")
    assert ContentConfig.from_env().database_url == "postgresql+psycopg://db/content"


@pytest.mark.parametrize(
    "name,value",
    [
        ("DATABASE_URL", "mysql://x"),
        ("BROKER_URL", "redis://x"),
        ("PAGE_SIZE_MAX", "lots"),
        ("PAGE_SIZE_DEFAULT", "500"),
        ("RETRY_DELAYS", "1,soon"),
        ("DB_SCHEMA", "bad-name;"),
        ("CONTENT_MAX_UPLOAD_BYTES", "10"),
        ("CONTENT_PUBLIC_URL", "content.your-state.gov"),
        ("CONTENT_PUBLIC_URL", "ftp://content.your-state.gov"),
        ("CONTENT_PUBLIC_URL", "https://x.gov/?a=1"),
    ],
)
def test_bad_values_fail_fast(monkeypatch, name, value):
    monkeypatch.delenv("CONTENT_DATABASE_URL", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        ContentConfig.from_env()


@pytest.mark.parametrize("namespace", ["staging", "staging."])
def test_a_broker_namespace_gets_its_separator(monkeypatch, namespace):
    from shared.messaging.bus import Bus

    monkeypatch.setenv("BROKER_NAMESPACE", namespace)
    config = ContentConfig.from_env()
    assert config.broker_namespace == "staging."
    topology = Bus.from_config(config).topology
    subscription = next(s for s in topology.for_consumer("scheduling") if s.handler == "attach_material_version")
    assert topology.work_queue(subscription) == "staging.scheduling.attach_material_version"
    assert topology.exchange == "staging.events"


def test_no_broker_namespace_prefixes_nothing(monkeypatch):
    monkeypatch.delenv("BROKER_NAMESPACE", raising=False)
    assert ContentConfig.from_env().broker_namespace == ""


def test_every_service_has_a_public_url(monkeypatch):
    from services.scheduling.config import SchedulingConfig

    for name in ("CONTENT_PUBLIC_URL", "CONTENT_PORT", "SCHEDULING_PUBLIC_URL", "SCHEDULING_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert ContentConfig.from_env().public_base_url == "http://127.0.0.1:8001"
    assert SchedulingConfig.from_env().public_base_url == "http://127.0.0.1:8002"
    monkeypatch.setenv("CONTENT_PUBLIC_URL", "https://api.your-state.gov/content/")
    monkeypatch.setenv("SCHEDULING_PORT", "18002")
    assert ContentConfig.from_env().public_base_url == "https://api.your-state.gov/content"
    assert SchedulingConfig.from_env().public_base_url == "http://127.0.0.1:18002"
