"""`make run`'s banner names the database and broker each service really uses, with no password."""

from shared.launcher import JsonLines, banner


def test_the_banner_names_postgresql_and_rabbitmq_when_they_are_configured(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres:s3cret@db.example.org:5432/t4t")
    monkeypatch.setenv("SCHEDULING_DATABASE_URL", "postgresql+psycopg://sched:s3cret@db2.example.org/t4t")
    monkeypatch.setenv("BROKER_URL", "amqp://t4t:s3cret@rabbit.example.org:5672/t4t")
    monkeypatch.setenv("BROKER_NAMESPACE", "staging")
    monkeypatch.delenv("CONTENT_DATABASE_URL", raising=False)
    text = banner()
    assert "content DB     postgresql+psycopg://postgres:***@db.example.org:5432/t4t   (schema content)" in text
    assert "scheduling DB  postgresql+psycopg://sched:***@db2.example.org/t4t   (schema scheduling)" in text
    assert "Broker         amqp://t4t:***@rabbit.example.org:5672/t4t   (names prefixed 'staging.')" in text
    assert "s3cret" not in text and "SQLite" not in text and "filesystem" not in text


def test_the_banner_names_the_embedded_default_by_its_files(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in (
        "DATABASE_URL",
        "CONTENT_DATABASE_URL",
        "SCHEDULING_DATABASE_URL",
        "BROKER_URL",
        "BROKER_FOLDER",
        "BROKER_NAMESPACE",
    ):
        monkeypatch.delenv(name, raising=False)
    text = banner()
    assert f"content DB     sqlite:///{tmp_path / 'content.db'}" in text
    assert f"Broker         filesystem broker in {tmp_path / 'broker'}" in text


def test_every_line_after_the_banner_is_json_with_its_process():
    assert (
        JsonLines.line("scheduling-api", '{"event": "request"}') == '{"process": "scheduling-api", "event": "request"}'
    )
    assert '"event": "content-api started (pid=7)"' in JsonLines.line("system", "content-api started (pid=7)\n")
    # A line that is not JSON is shown as it came, so that a test or a person sees it.
    assert JsonLines.line("content-api", "Traceback (most recent call last):") == "Traceback (most recent call last):"


def test_make_runs_unsubscribe_secret_is_made_once_per_data_folder_and_kept_private(tmp_path):
    import stat

    from shared.launcher import local_secret

    path = tmp_path / "var" / "unsubscribe-secret"
    first = local_secret(path)
    assert len(first) == 64 and int(first, 16) >= 0  # 32 random bytes, as hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret(path) == first  # the links already in the mailbox keep working after a restart
    assert local_secret(tmp_path / "other" / "unsubscribe-secret") != first
