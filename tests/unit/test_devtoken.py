"""`make token` mints a token the embedded default's services accept."""

from shared.auth import verifier_from_config
from shared.config import CommonConfig
from shared.devtoken import main


def test_dev_token_verifies_with_the_local_key(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("JWT_JWKS_URL", "JWT_PUBLIC_KEY_FILE", "JWT_DEV_PRIVATE_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--role", "facilitator", "--tenant", "gu"]) == 0
    token = capsys.readouterr().out.strip()
    config = CommonConfig(**CommonConfig.common_from_env("content"))
    who = verifier_from_config(config).verify(token)
    assert (who.tenant, who.roles, who.sub) == ("GU", frozenset({"facilitator"}), "dev-facilitator-gu")
