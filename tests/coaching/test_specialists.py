"""Specialists by name over HTTP: entered at sign-in and when they log support; read per jurisdiction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.coaching.models import SpecialistName
from tests.helpers import assert_problem, auth

pytestmark = pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)

TRAINER = ("facilitator", "CA", "trainer-ca-1")
ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
ACTIVITY = {
    "trainer": "trainer-ca-1",
    "kind": "consultation",
    "occurred_on": "2026-12-01",
    "duration_minutes": 45,
    "mode": "virtual",
}


def names(cclient, tokens, who, *subs) -> list[tuple[str, str]]:
    answer = cclient.get("/specialists", query_string={"sub": list(subs)}, headers=auth(tokens, who))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(item["sub"], item["name"]) for item in answer.json["items"]]


def test_a_specialist_signing_in_is_named_to_the_trainers_of_their_jurisdiction_only(cclient, tokens, coaching_ctx):
    sam = tokens.headers("specialist", "CA", sub="its-ca", name="  Sam   Specialist ")
    entered = cclient.put("/me/specialist-entry", headers=sam)
    assert entered.status_code == 200, entered.json
    assert (entered.json["sub"], entered.json["tenant"], entered.json["name"]) == ("its-ca", "CA", "Sam Specialist")
    texas = tokens.headers("specialist", "TX", sub="its-ca", name="Tex Specialist")
    assert cclient.put("/me/specialist-entry", headers=texas).status_code == 200

    # The trainer reads their specialist's name; a subject nobody knows is left out.
    assert names(cclient, tokens, TRAINER, "its-ca", "nobody") == [("its-ca", "Sam Specialist")]
    assert names(cclient, tokens, ("jurisdiction_admin", "TX", "admin-tx"), "its-ca") == [("its-ca", "Tex Specialist")]
    national = cclient.get("/specialists?sub=its-ca", headers=auth(tokens, ("national_admin", "US", "nat")))
    assert sorted((i["tenant"], i["name"]) for i in national.json["items"]) == [
        ("CA", "Sam Specialist"),
        ("TX", "Tex Specialist"),
    ]
    # A rename at the identity provider arrives with the next sign-in.
    renamed = tokens.headers("specialist", "CA", sub="its-ca", name="Samantha Specialist")
    assert cclient.put("/me/specialist-entry", headers=renamed).json["name"] == "Samantha Specialist"
    assert names(cclient, tokens, TRAINER, "its-ca") == [("its-ca", "Samantha Specialist")]


def test_a_specialist_logging_support_is_named_by_it(cclient, tokens, coaching_ctx):
    sam = tokens.headers("specialist", "CA", sub="its-ca", name="Sam Specialist")
    assert cclient.post("/activities", json=ACTIVITY, headers=sam).status_code == 201
    assert names(cclient, tokens, TRAINER, "its-ca") == [("its-ca", "Sam Specialist")]
    # A coach logging support is not a specialist: nobody is named by it.
    coach = tokens.headers("coach", "CA", sub="coach-ca", name="Cora Coach")
    assert cclient.post("/activities", json=ACTIVITY, headers=coach).status_code == 201
    assert names(cclient, tokens, TRAINER, "coach-ca") == []


def test_bad_requests_about_specialists_are_refused_and_write_nothing(cclient, tokens, coaching_ctx):
    assert_problem(cclient.put("/me/specialist-entry", headers=tokens.headers("specialist", "CA", sub="s")), 422)
    assert_problem(cclient.put("/me/specialist-entry", headers=auth(tokens, ADMIN)), 403)
    for query in ({}, {"sub": ["s"] * 101}, {"sub": "x" * 201}, {"sub": "a\u0001b"}):
        assert_problem(cclient.get("/specialists", query_string=query, headers=auth(tokens, TRAINER)), 422)
    with coaching_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(SpecialistName)) == 0
