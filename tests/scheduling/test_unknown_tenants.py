"""The scheduling service refuses callers of a jurisdiction it does not serve, before they write anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.scheduling.models import HostAgency, SelfReportedHours
from tests.helpers import auth

AGENCY = {"name": "Bay Area Child Care Council", "email": "training@example.org", "coordinators": ["coord-ca"]}
ELSEWHERE = {"title": "Infant CPR", "provider": "Red Cross", "completed_on": "2026-01-15", "minutes": 240}


def rows(ctx, model) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "tenant, admin_role", [("ZZ", "jurisdiction_admin"), ("ca", "jurisdiction_admin"), ("US", "jurisdiction_admin")]
)
def test_unknown_jurisdictions_cannot_create_agencies_keys_or_hours(
    sclient, tokens, scheduling_ctx, tenant, admin_role
):
    admin = auth(tokens, (admin_role, tenant, f"admin-{tenant}"))
    participant = auth(tokens, ("participant", tenant, f"ana-{tenant}"))
    before = (rows(scheduling_ctx, HostAgency), rows(scheduling_ctx, SelfReportedHours))
    for response in (
        sclient.post("/agencies", json=AGENCY, headers=admin),
        sclient.post("/api-keys", json={"name": "registry"}, headers=admin),
        sclient.post("/training-hours/self-reported", json=ELSEWHERE, headers=participant),
        sclient.get("/cohorts", headers=admin),
    ):
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.json["title"] == "Unknown jurisdiction"
    assert (rows(scheduling_ctx, HostAgency), rows(scheduling_ctx, SelfReportedHours)) == before


def test_a_known_jurisdiction_still_creates_its_agency(sclient, tokens):
    created = sclient.post("/agencies", json=AGENCY, headers=auth(tokens, ("jurisdiction_admin", "CA", "admin-ca")))
    assert created.status_code == 201 and created.json["tenant"] == "CA"


def test_a_token_without_a_user_id_cannot_create_an_agency(sclient, tokens, scheduling_ctx):
    from shared.auth import mint_token
    from shared.testing import AUDIENCE, ISSUER

    token = mint_token(
        tokens.private_pem, issuer=ISSUER, audience=AUDIENCE, sub="", tenant="CA", roles=["jurisdiction_admin"]
    )
    before = rows(scheduling_ctx, HostAgency)
    refused = sclient.post("/agencies", json=AGENCY, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert rows(scheduling_ctx, HostAgency) == before
