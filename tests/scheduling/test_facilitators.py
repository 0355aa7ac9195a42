"""The facilitators' directory over HTTP: entries from sign-ins and from admins, by name, per jurisdiction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.scheduling.models import FacilitatorName
from tests.helpers import assert_problem, auth

BACKENDS = ["sqlite", "postgres"]

CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
CA_COORDINATOR = ("agency_coordinator", "CA", "coord-ca")
CA_SPECIALIST = ("specialist", "CA", "spec-ca")
CA_PARTICIPANT = ("participant", "CA", "pat-ca")
TX_ADMIN = ("jurisdiction_admin", "TX", "admin-tx")
NATIONAL = ("national_admin", "US", "admin-us")


def enter_myself(client, tokens, tenant: str, sub: str, name: str):
    return client.put("/me/facilitator-entry", headers=tokens.headers("facilitator", tenant, sub=sub, name=name))


def listed(client, tokens, who, **query) -> list[tuple[str, str]]:
    response = client.get("/facilitators", query_string=query, headers=auth(tokens, who))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(item["sub"], item["name"]) for item in response.json["items"]]


def entries(ctx) -> int:
    with ctx.db.session() as db:
        return db.scalar(select(func.count()).select_from(FacilitatorName))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_facilitators_enter_themselves_and_are_listed_by_name_in_their_jurisdiction_only(
    sclient, tokens, scheduling_ctx, database
):
    entered = enter_myself(sclient, tokens, "CA", "fac-malia", "  Malia   Akana ")
    assert entered.status_code == 200, entered.json
    assert (entered.json["sub"], entered.json["tenant"], entered.json["name"]) == ("fac-malia", "CA", "Malia Akana")
    assert enter_myself(sclient, tokens, "CA", "fac-ben", "Ben Cho").status_code == 200
    assert enter_myself(sclient, tokens, "TX", "fac-tx", "Ana Ruiz").status_code == 200

    for who in (CA_ADMIN, CA_COORDINATOR, CA_SPECIALIST):
        assert listed(sclient, tokens, who) == [("fac-ben", "Ben Cho"), ("fac-malia", "Malia Akana")]
    assert listed(sclient, tokens, TX_ADMIN) == [("fac-tx", "Ana Ruiz")]
    everyone = sclient.get("/facilitators", headers=auth(tokens, NATIONAL)).json["items"]
    assert [(item["tenant"], item["name"]) for item in everyone] == [
        ("TX", "Ana Ruiz"),
        ("CA", "Ben Cho"),
        ("CA", "Malia Akana"),
    ]
    assert [
        item["name"]
        for item in sclient.get(
            "/facilitators", query_string={"jurisdiction": "tx"}, headers=auth(tokens, NATIONAL)
        ).json["items"]
    ] == ["Ana Ruiz"]
    # Another jurisdiction's facilitators stay out of sight whatever is asked.
    assert listed(sclient, tokens, CA_ADMIN, jurisdiction="TX") == []
    # Participants choose no facilitator: the directory is not theirs to read.
    assert_problem(sclient.get("/facilitators", headers=auth(tokens, CA_PARTICIPANT)), 403)
    # Entering oneself again with the same name changes nothing; a new name replaces the old.
    before = sclient.get("/facilitators", headers=auth(tokens, CA_ADMIN)).json["items"][0]["updated_at"]
    assert enter_myself(sclient, tokens, "CA", "fac-ben", "Ben Cho").json["updated_at"] == before
    assert enter_myself(sclient, tokens, "CA", "fac-ben", "Benjamin Cho").json["name"] == "Benjamin Cho"
    assert listed(sclient, tokens, CA_ADMIN) == [("fac-ben", "Benjamin Cho"), ("fac-malia", "Malia Akana")]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_admins_enter_facilitators_before_they_sign_in_and_their_sign_in_renames_them(
    sclient, tokens, scheduling_ctx, database
):
    put = sclient.put("/facilitators/auth0|5f1c", json={"name": "Keoni Kahale"}, headers=auth(tokens, CA_ADMIN))
    assert put.status_code == 200, put.json
    assert (put.json["sub"], put.json["tenant"], put.json["name"]) == ("auth0|5f1c", "CA", "Keoni Kahale")
    assert (
        sclient.put(
            "/facilitators/fac-100%25", json={"name": "Pua 100% Lani"}, headers=auth(tokens, CA_ADMIN)
        ).status_code
        == 200
    )
    assert listed(sclient, tokens, CA_ADMIN) == [("auth0|5f1c", "Keoni Kahale"), ("fac-100%", "Pua 100% Lani")]
    assert listed(sclient, tokens, TX_ADMIN) == []

    # Found by part of the name in any case (LIKE's wildcards are plain characters), or by subjects.
    assert listed(sclient, tokens, CA_ADMIN, q="KAHA") == [("auth0|5f1c", "Keoni Kahale")]
    assert listed(sclient, tokens, CA_ADMIN, q="100%") == [("fac-100%", "Pua 100% Lani")]
    assert listed(sclient, tokens, CA_ADMIN, q="_") == []
    assert listed(sclient, tokens, CA_ADMIN, sub=["fac-100%", "nobody"]) == [("fac-100%", "Pua 100% Lani")]

    # Their own sign-in names them as their identity provider does.
    assert enter_myself(sclient, tokens, "CA", "auth0|5f1c", "Keoni Kahale-Akana").status_code == 200
    assert listed(sclient, tokens, CA_ADMIN, sub="auth0|5f1c") == [("auth0|5f1c", "Keoni Kahale-Akana")]

    # A page at a time, by name, without loss or repeat.
    for sub, name in [("f-3", "Ana"), ("f-4", "Ana"), ("f-5", "Zoe")]:
        sclient.put(f"/facilitators/{sub}", json={"name": name}, headers=auth(tokens, CA_ADMIN))
    walked, cursor = [], None
    while True:
        page = sclient.get(
            "/facilitators",
            query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=auth(tokens, CA_ADMIN),
        ).json
        walked += [item["sub"] for item in page["items"]]
        if not (cursor := page.get("next_cursor")):
            break
    assert walked == ["f-3", "f-4", "auth0|5f1c", "fac-100%", "f-5"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_withdrawn_facilitator_is_no_longer_offered_until_an_admin_enters_them_again(
    sclient, tokens, scheduling_ctx, database
):
    admin = auth(tokens, CA_ADMIN)
    assert enter_myself(sclient, tokens, "CA", "fac-malia", "Malia Akana").status_code == 200
    assert enter_myself(sclient, tokens, "CA", "fac-ben", "Ben Cho").status_code == 200

    withdrawn = sclient.delete("/facilitators/fac-malia", headers=admin)
    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["withdrawn_at"] is not None
    assert listed(sclient, tokens, CA_ADMIN) == [("fac-ben", "Ben Cho")]
    assert listed(sclient, tokens, CA_ADMIN, include_withdrawn="true") == [
        ("fac-ben", "Ben Cho"),
        ("fac-malia", "Malia Akana"),
    ]
    # Withdrawing again keeps the first time; another jurisdiction's admin finds nobody to withdraw.
    again = sclient.delete("/facilitators/fac-malia", headers=admin)
    assert again.json["withdrawn_at"] == withdrawn.json["withdrawn_at"]
    assert_problem(sclient.delete("/facilitators/fac-malia", headers=auth(tokens, TX_ADMIN)), 404)
    assert_problem(sclient.delete("/facilitators/nobody", headers=admin), 404)
    assert_problem(sclient.delete("/facilitators/fac-ben", headers=auth(tokens, CA_COORDINATOR)), 403)
    # Her own sign-in renames her without offering her again; an admin's entry does.
    assert enter_myself(sclient, tokens, "CA", "fac-malia", "Malia Akana-Kahale").json["withdrawn_at"] is not None
    assert listed(sclient, tokens, CA_ADMIN) == [("fac-ben", "Ben Cho")]
    back = sclient.put("/facilitators/fac-malia", json={"name": "Malia Akana-Kahale"}, headers=admin)
    assert (back.status_code, back.json["withdrawn_at"]) == (200, None)
    assert listed(sclient, tokens, CA_ADMIN) == [("fac-ben", "Ben Cho"), ("fac-malia", "Malia Akana-Kahale")]


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_bad_directory_entries_are_refused_and_write_nothing(sclient, tokens, scheduling_ctx, database):
    admin = auth(tokens, CA_ADMIN)
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": 7}, {"name": "a\nb"}, []):
        assert_problem(sclient.put("/facilitators/fac-1", json=body, headers=admin), 422)
    for sub in ("x" * 201, "%20fac", "fac%01", "%E2%80%8B"):
        assert_problem(sclient.put(f"/facilitators/{sub}", json={"name": "Someone"}, headers=admin), 422, "sub")
        assert_problem(sclient.delete(f"/facilitators/{sub}", headers=admin), 422, "sub")
    # A NUL never reaches a view (no route matches it), let alone the database.
    assert_problem(sclient.put("/facilitators/fac%00", json={"name": "Someone"}, headers=admin), 404)
    assert_problem(sclient.delete("/facilitators/fac%00", headers=admin), 404)
    for who in (CA_COORDINATOR, CA_SPECIALIST, NATIONAL, ("facilitator", "CA", "fac-1")):
        assert_problem(sclient.put("/facilitators/fac-1", json={"name": "Someone"}, headers=auth(tokens, who)), 403)
    assert_problem(sclient.put("/me/facilitator-entry", headers=auth(tokens, CA_ADMIN)), 403)
    # A sign-in whose token names nobody has nothing to enter.
    assert_problem(sclient.put("/me/facilitator-entry", headers=tokens.headers("facilitator", "CA", sub="f")), 422)
    for query in ({"limit": 0}, {"q": "x" * 201}, {"sub": ["s"] * 101}, {"cursor": "not-a-cursor"}):
        assert_problem(sclient.get("/facilitators", query_string=query, headers=admin), 422)
    assert entries(scheduling_ctx) == 0


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_cohort_names_its_facilitators_and_a_rename_reaches_a_sync_of_cohorts(
    sclient, tokens, scheduling_ctx, database
):
    from tests.scheduling.test_cohorts import create_cohort

    assert enter_myself(sclient, tokens, "CA", "fac-malia", "Malia Akana").status_code == 200
    cohort = create_cohort(sclient, tokens, CA_ADMIN, facilitators=["fac-malia", "auth0|not-yet"])
    # A facilitator the directory lacks is left out, not guessed.
    assert cohort["facilitator_names"] == {"fac-malia": "Malia Akana"}
    other = create_cohort(sclient, tokens, CA_ADMIN, title="Another", facilitators=["fac-ben"])
    read = sclient.get(f"/cohorts/{cohort['id']}", headers=auth(tokens, CA_ADMIN))
    assert read.json["facilitator_names"] == {"fac-malia": "Malia Akana"}

    synced = sclient.get("/cohorts", query_string={"changed_after": 0}, headers=auth(tokens, CA_ADMIN)).json
    assert {c["id"]: c["facilitator_names"] for c in synced["items"]} == {
        cohort["id"]: {"fac-malia": "Malia Akana"},
        other["id"]: {},
    }
    # An admin enters the one who had not signed in, and Malia signs in under a new name: the cohort
    # naming them is a change a state system's next sync reads; the other cohort is not.
    entered = sclient.put("/facilitators/auth0|not-yet", json={"name": "Keoni Kahale"}, headers=auth(tokens, CA_ADMIN))
    assert entered.status_code == 200, entered.json
    assert enter_myself(sclient, tokens, "CA", "fac-malia", "Malia Akana-Cho").status_code == 200
    changed = sclient.get(
        "/cohorts", query_string={"changed_after": synced["last_change"]}, headers=auth(tokens, CA_ADMIN)
    ).json["items"]
    assert [(c["id"], c["facilitator_names"]) for c in changed] == [
        (cohort["id"], {"fac-malia": "Malia Akana-Cho", "auth0|not-yet": "Keoni Kahale"})
    ]
    # The ETag follows the names: a settings form read before the rename is a version ago.
    assert (
        sclient.get(f"/cohorts/{cohort['id']}", headers=auth(tokens, CA_ADMIN)).headers["ETag"] != read.headers["ETag"]
    )
