"""Only jurisdictions the platform serves may act, and every caller has a user id (content service)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jwt
import pytest
from sqlalchemy import func, select

from shared.auth import mint_token
from shared.testing import AUDIENCE, ISSUER

PROBLEM = "application/problem+json"
REPO = Path(__file__).resolve().parents[2]


def api_keys(ctx) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(ctx.tables.api_key))


@pytest.mark.parametrize(
    "role, tenant",
    [
        ("jurisdiction_admin", "ZZ"),  # no such jurisdiction
        ("jurisdiction_admin", "ca"),  # codes are upper-case; "ca" would be a second, invisible California
        ("jurisdiction_admin", "US"),  # the national tenant, without the national role
        ("national_admin", "Guam"),
    ],
)
def test_a_token_of_an_unknown_jurisdiction_is_refused_and_writes_nothing(client, tokens, content_ctx, role, tenant):
    headers = tokens.headers(role, tenant, sub="someone")
    before = api_keys(content_ctx)
    created = client.post("/api-keys", json={"name": "registry"}, headers=headers)
    assert created.status_code == 403 and created.mimetype == PROBLEM, created.get_data(as_text=True)
    assert created.json["title"] == "Unknown jurisdiction" and repr(tenant) in created.json["detail"]
    assert client.get("/series", headers=headers).status_code == 403
    assert api_keys(content_ctx) == before


@pytest.mark.parametrize(
    "role, tenant", [("jurisdiction_admin", "CA"), ("jurisdiction_admin", "GU"), ("national_admin", "US")]
)
def test_known_jurisdictions_and_the_national_office_are_let_in(client, tokens, role, tenant):
    created = client.post("/api-keys", json={"name": "registry"}, headers=tokens.headers(role, tenant))
    assert created.status_code == 201 and created.json["tenant"] == tenant


def test_an_api_key_of_an_unknown_jurisdiction_is_refused(client, tokens, content_ctx):
    """A key made before tenants were checked at the door stops working too."""
    created = client.post("/api-keys", json={"name": "registry"}, headers=tokens.headers("jurisdiction_admin", "CA"))
    with content_ctx.db.unit_of_work() as uow:
        uow.session.get(content_ctx.tables.api_key, created.json["id"]).tenant = "ZZ"
        uow.commit()
    refused = client.get("/series", headers={"X-API-Key": created.json["key"]})
    assert refused.status_code == 403 and refused.json["title"] == "Unknown jurisdiction"


@pytest.mark.parametrize("sub", ["", "   "])
def test_a_token_without_a_user_id_is_refused(client, tokens, content_ctx, sub):
    token = mint_token(
        tokens.private_pem, issuer=ISSUER, audience=AUDIENCE, sub=sub, tenant="CA", roles=["jurisdiction_admin"]
    )
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == sub
    before = api_keys(content_ctx)
    refused = client.post("/api-keys", json={"name": "registry"}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    assert "sub" in refused.json["detail"]
    assert api_keys(content_ctx) == before


def test_make_token_passes_sub_and_name_through(tmp_path, monkeypatch):
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path), "NAME": "not-this"}
    out = subprocess.run(
        ["make", "-s", "token", "ROLE=coach", "TENANT=CA", "SUB=ana-ruiz", "NAME=Ana Ruiz"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    claims = jwt.decode(out.stdout.strip(), options={"verify_signature": False})
    assert (claims["sub"], claims["name"], claims["tenant"], claims["roles"]) == (
        "ana-ruiz",
        "Ana Ruiz",
        "CA",
        ["coach"],
    )
    # Without SUB and NAME: the derived user id, and no name (not the environment's NAME).
    out = subprocess.run(
        ["make", "-s", "token", "ROLE=coach", "TENANT=CA"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    claims = jwt.decode(out.stdout.strip(), options={"verify_signature": False})
    assert claims["sub"] == "dev-coach-ca" and "name" not in claims


def test_make_token_refuses_a_tenant_the_services_would_refuse(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run(
        ["make", "-s", "token", "ROLE=coach", "TENANT=ZZ"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "not a known jurisdiction" in out.stderr and not out.stdout.strip()


def test_make_token_mints_a_tribe_s_token_when_told_it_is_one(tmp_path):
    """The static list holds no Tribe: TRIBE=1 checks only the code's form (the services check the rest)."""
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run(
        ["make", "-s", "token", "ROLE=jurisdiction_admin", "TENANT=CTUIR", "TRIBE=1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert jwt.decode(out.stdout.strip(), options={"verify_signature": False})["tenant"] == "CTUIR"
    for args in (["TENANT=CTUIR"], ["TENANT=C", "TRIBE=1"], ["TENANT=US", "TRIBE=1"]):
        out = subprocess.run(
            ["make", "-s", "token", "ROLE=jurisdiction_admin", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode != 0 and not out.stdout.strip(), args
