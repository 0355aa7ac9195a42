"""A database that goes away and comes back: the APIs answer 503 with Retry-After, as their OpenAPI
documents say, never a 500, and answer again as soon as it is back."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy.engine import make_url

from shared.testing.contract import Contract, serving
from tests.conftest import config_overrides, migrated_context
from tests.helpers import TcpProxy

PROBLEM = "application/problem+json"


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_requests_while_the_database_is_away_are_asked_to_come_back_and_change_nothing(
    database, broker, signing_key_file, tmp_path, tokens
):
    from services.scheduling.app import create_app
    from services.scheduling.config import SchedulingConfig

    url = make_url(database["url"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = {**database, "url": url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)}
    ctx = migrated_context(
        "scheduling", SchedulingConfig, config_overrides(through_proxy, broker, signing_key_file, tmp_path)
    )
    admin = tokens.headers("jurisdiction_admin", "CA")
    agency = {"name": "Valley Child Care Council", "email": "training@example.org"}
    try:
        with serving(create_app(ctx)) as base:
            contract = Contract(requests.get(f"{base}/openapi.json", timeout=10).json())
            assert contract.check(requests.get(f"{base}/agencies", headers=admin, timeout=10)).status_code == 200

            proxy.cut()
            for answer in (
                requests.get(f"{base}/agencies", headers=admin, timeout=30),
                requests.post(f"{base}/agencies", json=agency, headers=admin, timeout=30),
            ):
                assert answer.status_code == 503, answer.text
                assert answer.headers["Content-Type"] == PROBLEM
                assert answer.headers["Retry-After"] == "5"
                assert "database cannot be reached" in answer.json()["detail"]
                contract.check(answer)

            proxy.restore()
            listed = contract.check(requests.get(f"{base}/agencies", headers=admin, timeout=30))
            assert listed.status_code == 200
            assert agency["name"] not in [a["name"] for a in listed.json()["items"]]
            created = contract.check(requests.post(f"{base}/agencies", json=agency, headers=admin, timeout=30))
            assert created.status_code == 201, created.text
    finally:
        proxy.close()
        ctx.db.dispose()
