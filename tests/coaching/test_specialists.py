"""Specialists by name over HTTP: entered at sign-in, when they log support and by admins; withdrawn by admins;
read per jurisdiction."""

from __future__ import annotations

import json

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
    for query in ({"sub": ["s"] * 101}, {"sub": "x" * 201}, {"sub": "a\u0001b"}, {"q": "x" * 201}, {"limit": 0}):
        assert_problem(cclient.get("/specialists", query_string=query, headers=auth(tokens, ADMIN)), 422)
    # Without subjects the list is for staff: a trainer names specialists by subject only.
    assert_problem(cclient.get("/specialists", headers=auth(tokens, TRAINER)), 403)
    for sub, body in (("a\u0001b", {"name": "Sam"}), (" s", {"name": "Sam"}), ("x" * 201, {"name": "Sam"})):
        refused = cclient.put(f"/specialists/{sub}", json=body, headers=auth(tokens, ADMIN))
        assert_problem(refused, 422)
        assert "sub" in refused.json["errors"]
    for body in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "Sam", "role": "admin"}, ["Sam"]):
        assert_problem(cclient.put("/specialists/s", json=body, headers=auth(tokens, ADMIN)), 422)
    for who in (TRAINER, ("specialist", "CA", "s"), ("coach", "CA", "c"), ("national_admin", "US", "nat")):
        assert_problem(cclient.put("/specialists/s", json={"name": "Sam"}, headers=auth(tokens, who)), 403)
        assert_problem(cclient.delete("/specialists/s", headers=auth(tokens, who)), 403)
    assert_problem(cclient.delete("/specialists/nobody", headers=auth(tokens, ADMIN)), 404)
    with coaching_ctx.db.session() as db:
        assert db.scalar(select(func.count()).select_from(SpecialistName)) == 0


def listed(cclient, tokens, who, **query) -> list[tuple[str, str, bool]]:
    answer = cclient.get("/specialists", query_string=query, headers=auth(tokens, who))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(item["sub"], item["name"], item["withdrawn_at"] is not None) for item in answer.json["items"]]


def test_an_admin_enters_specialists_who_have_not_signed_in_and_staff_find_them_by_name(cclient, tokens, coaching_ctx):
    for sub, name in (("its-2", "Zoe Zamora"), ("its-1", "Ana Álvarez"), ("its-3", "Ben 100% Brown")):
        entered = cclient.put(f"/specialists/{sub}", json={"name": name}, headers=auth(tokens, ADMIN))
        assert entered.status_code == 200, entered.json
        assert (entered.json["tenant"], entered.json["name"], entered.json["withdrawn_at"]) == ("CA", name, None)
    texas = ("jurisdiction_admin", "TX", "admin-tx")
    assert (
        cclient.put("/specialists/its-9", json={"name": "Tex Ranger"}, headers=auth(tokens, texas)).status_code == 200
    )

    everyone = [("its-1", "Ana Álvarez", False), ("its-3", "Ben 100% Brown", False), ("its-2", "Zoe Zamora", False)]
    assert listed(cclient, tokens, ADMIN) == everyone
    assert listed(cclient, tokens, ("coach", "CA", "coach-ca")) == everyone
    assert listed(cclient, tokens, ("specialist", "CA", "its-1")) == everyone
    # Part of the name in any case; LIKE's wildcards are taken as written.
    assert listed(cclient, tokens, ADMIN, q="ZAM") == [("its-2", "Zoe Zamora", False)]
    assert listed(cclient, tokens, ADMIN, q="0%") == [("its-3", "Ben 100% Brown", False)]
    assert listed(cclient, tokens, ADMIN, q="_") == []
    # Another jurisdiction's admin, even naming CA, sees only their own; national staff see all or one.
    assert listed(cclient, tokens, texas) == [("its-9", "Tex Ranger", False)]
    assert listed(cclient, tokens, texas, jurisdiction="CA") == []
    national = ("national_admin", "US", "nat")
    assert [sub for sub, _, _ in listed(cclient, tokens, national)] == ["its-1", "its-3", "its-9", "its-2"]
    assert [sub for sub, _, _ in listed(cclient, tokens, national, jurisdiction="tx")] == ["its-9"]
    # Paged by name, every specialist once.
    first = cclient.get("/specialists?limit=2", headers=auth(tokens, ADMIN))
    assert first.status_code == 200 and "next" in first.headers["Link"]
    rest = cclient.get("/specialists", query_string={"limit": 2, "cursor": first.json["next_cursor"]},
                       headers=auth(tokens, ADMIN))  # fmt: skip
    assert [i["sub"] for i in first.json["items"] + rest.json["items"]] == ["its-1", "its-3", "its-2"]
    assert rest.json.get("next_cursor") is None

    # Their own sign-in names them as the identity provider does.
    zoe = tokens.headers("specialist", "CA", sub="its-2", name="Zoe Zamora-Ruiz")
    assert cclient.put("/me/specialist-entry", headers=zoe).json["name"] == "Zoe Zamora-Ruiz"
    assert listed(cclient, tokens, ADMIN, q="zamora") == [("its-2", "Zoe Zamora-Ruiz", False)]


def test_a_withdrawn_specialist_is_not_offered_and_the_plans_naming_them_still_do(cclient, tokens, coaching_ctx):
    for sub, name in (("its-1", "Ana Álvarez"), ("its-2", "Zoe Zamora")):
        assert cclient.put(f"/specialists/{sub}", json={"name": name}, headers=auth(tokens, ADMIN)).status_code == 200
    gone = cclient.delete("/specialists/its-1", headers=auth(tokens, ADMIN))
    assert gone.status_code == 200 and gone.json["withdrawn_at"] is not None
    again = cclient.delete("/specialists/its-1", headers=auth(tokens, ADMIN))
    assert again.status_code == 200 and again.json["withdrawn_at"] == gone.json["withdrawn_at"]

    assert listed(cclient, tokens, ADMIN) == [("its-2", "Zoe Zamora", False)]
    assert listed(cclient, tokens, ADMIN, include_withdrawn="true") == [
        ("its-1", "Ana Álvarez", True),
        ("its-2", "Zoe Zamora", False),
    ]
    # The trainer whose plan names her still reads her name.
    assert names(cclient, tokens, TRAINER, "its-1") == [("its-1", "Ana Álvarez")]
    # Her own sign-in renames her without offering her again; an admin's entry does.
    ana = tokens.headers("specialist", "CA", sub="its-1", name="Ana Álvarez Soto")
    assert cclient.put("/me/specialist-entry", headers=ana).json["withdrawn_at"] is not None
    assert listed(cclient, tokens, ADMIN) == [("its-2", "Zoe Zamora", False)]
    back = cclient.put("/specialists/its-1", json={"name": "Ana Álvarez Soto"}, headers=auth(tokens, ADMIN))
    assert back.status_code == 200 and back.json["withdrawn_at"] is None
    assert listed(cclient, tokens, ADMIN) == [("its-1", "Ana Álvarez Soto", False), ("its-2", "Zoe Zamora", False)]
    # Another jurisdiction cannot withdraw CA's specialist.
    texas = ("jurisdiction_admin", "TX", "admin-tx")
    assert_problem(cclient.delete("/specialists/its-2", headers=auth(tokens, texas)), 404)


def test_a_withdrawn_specialist_is_not_assigned_anew_and_one_not_yet_known_is(cclient, tokens, coaching_ctx):
    from tests.coaching.conftest import open_plan

    assert (
        cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    assert (
        cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    open_plan(coaching_ctx, trainer="trainer-ca-1")
    [plan] = cclient.get("/plans", headers=auth(tokens, ADMIN)).json["items"]
    assert plan["specialist"] == "its-1"
    assert cclient.delete("/specialists/its-1", headers=auth(tokens, ADMIN)).status_code == 200

    # Keeping what is set is fine; choosing her anew is refused, beside the field, and changes nothing.
    kept = cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN))
    assert kept.status_code == 200
    assert (
        cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-1"}, headers=auth(tokens, ADMIN)).status_code
        == 200
    )
    assert cclient.patch("/settings", json={"default_specialist": None}, headers=auth(tokens, ADMIN)).status_code == 200
    refused = cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN))
    assert_problem(refused, 422)
    assert "Ana Álvarez is withdrawn" in refused.json["errors"]["default_specialist"][0]
    assert cclient.get("/settings", headers=auth(tokens, ADMIN)).json["default_specialist"] is None
    moved = cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-new"}, headers=auth(tokens, ADMIN))
    assert moved.status_code == 200 and moved.json["specialist"] == "its-new"  # not signed in yet: allowed
    refused = cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-1"}, headers=auth(tokens, ADMIN))
    assert_problem(refused, 422)
    assert "specialist" in refused.json["errors"]
    assert cclient.get(f"/plans/{plan['id']}", headers=auth(tokens, ADMIN)).json["specialist"] == "its-new"
    # Offered again, she may be assigned again.
    assert (
        cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    assert (
        cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-1"}, headers=auth(tokens, ADMIN)).status_code
        == 200
    )


def test_plans_name_their_specialist_and_a_rename_reaches_systems_syncing_plans(cclient, tokens, coaching_ctx):
    from tests.coaching.conftest import open_plan

    cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="trainer-ca-1")
    synced = cclient.get("/plans", query_string={"changed_after": 0}, headers=auth(tokens, ADMIN)).json
    [plan] = synced["items"]
    assert (plan["specialist"], plan["specialist_name"]) == ("its-1", None)  # not known by name yet

    def changes_since(mark: int) -> tuple[list[str | None], int]:
        page = cclient.get("/plans", query_string={"changed_after": mark}, headers=auth(tokens, ADMIN)).json
        return [p["specialist_name"] for p in page["items"]], page["last_change"] or mark

    # Entered by an admin, then renamed by her own sign-in: each time the plan is a change to sync.
    assert (
        cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    names_now, mark = changes_since(synced["last_change"])
    assert names_now == ["Ana Álvarez"]
    ana = tokens.headers("specialist", "CA", sub="its-1", name="Ana Álvarez Soto")
    assert cclient.put("/me/specialist-entry", headers=ana).status_code == 200
    names_now, mark = changes_since(mark)
    assert names_now == ["Ana Álvarez Soto"]
    # Signing in again by the same name changes nothing.
    assert cclient.put("/me/specialist-entry", headers=ana).status_code == 200
    assert changes_since(mark)[0] == []
    # The trainer reads the name on their plan; assigning another names the new one at once.
    mine = cclient.get("/plans", headers=auth(tokens, TRAINER)).json["items"]
    assert [p["specialist_name"] for p in mine] == ["Ana Álvarez Soto"]
    assert (
        cclient.put("/specialists/its-2", json={"name": "Zoe Zamora"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    moved = cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-2"}, headers=auth(tokens, ADMIN))
    assert (moved.json["specialist"], moved.json["specialist_name"]) == ("its-2", "Zoe Zamora")


def test_assigning_another_specialist_tells_notifications_once_with_both_names(cclient, tokens, coaching_ctx):
    from services.coaching.models import platform
    from tests.coaching.conftest import open_plan

    def events(event_type: str) -> list[dict]:
        with coaching_ctx.db.session() as db:
            bodies = db.scalars(select(platform.outbox.body).where(platform.outbox.event_type == event_type))
            return [json.loads(body)["data"] for body in bodies]

    assert (
        cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="trainer-ca-1", participant_name="Tina Trainer")
    [opened] = events("coaching.plan.created")
    assert (opened["specialist"], opened["specialist_name"]) == ("its-1", "Ana Álvarez")
    [plan] = cclient.get("/plans", headers=auth(tokens, ADMIN)).json["items"]

    # The same specialist again changes nothing and tells nobody; another one is told, with the trainer.
    assert (
        cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-1"}, headers=auth(tokens, ADMIN)).status_code
        == 200
    )
    assert events("coaching.plan.specialist_assigned") == []
    assert (
        cclient.put("/specialists/its-2", json={"name": "Zoe Zamora"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    assert (
        cclient.patch(f"/plans/{plan['id']}", json={"specialist": "its-2"}, headers=auth(tokens, ADMIN)).status_code
        == 200
    )
    [assigned] = events("coaching.plan.specialist_assigned")
    assert assigned == {
        "plan_id": plan["id"],
        "trainer": "trainer-ca-1",
        "trainer_name": "Tina Trainer",
        "specialist": "its-2",
        "specialist_name": "Zoe Zamora",
        "previous_specialist": "its-1",
        "due_on": plan["commitment"]["due_on"],
    }


def test_a_plan_opened_after_the_default_specialist_was_withdrawn_waits_for_an_admin(cclient, tokens, coaching_ctx):
    from tests.coaching.conftest import open_plan

    assert (
        cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=auth(tokens, ADMIN)).status_code == 200
    )
    cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=auth(tokens, ADMIN))
    open_plan(coaching_ctx, trainer="trainer-ca-1")
    assert cclient.delete("/specialists/its-1", headers=auth(tokens, ADMIN)).status_code == 200
    open_plan(coaching_ctx, trainer="trainer-ca-2")

    plans = {p["trainer"]: p["specialist"] for p in cclient.get("/plans", headers=auth(tokens, ADMIN)).json["items"]}
    assert plans == {"trainer-ca-1": "its-1", "trainer-ca-2": None}  # the first keeps her; the second waits
    unassigned = cclient.get("/caseload?unassigned=true", headers=auth(tokens, ADMIN)).json["items"]
    assert [item["trainer"] for item in unassigned] == ["trainer-ca-2"]


def test_whom_new_plans_get_is_announced_each_time_it_changes_and_only_then(cclient, tokens, coaching_ctx):
    from services.coaching.models import platform
    from shared.envelope import parse_event

    def announced(tenant: str = "CA") -> list[tuple[str | None, str | None]]:
        with coaching_ctx.db.session() as session:
            bodies = session.scalars(
                select(platform.outbox.body)
                .where(platform.outbox.event_type == "coaching.default_specialist.changed")
                .order_by(platform.outbox.id)
            ).all()
        events = [e for e in map(parse_event, bodies) if e.tenant == tenant]
        assert all(e.subject == tenant for e in events)
        return [(e.data["default_specialist"], e.data["default_specialist_name"]) for e in events]

    admin = auth(tokens, ADMIN)
    assert cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=admin).status_code == 200
    assert announced() == []  # entered, not the default
    assert cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=admin).status_code == 200
    assert cclient.patch("/settings", json={"default_specialist": "its-1"}, headers=admin).status_code == 200
    assert cclient.patch("/settings", json={"default_time_frame_months": 9}, headers=admin).status_code == 200
    assert announced() == [("its-1", "Ana Álvarez")]  # the same default again, or the time frame: nothing

    assert cclient.delete("/specialists/its-1", headers=admin).status_code == 200
    assert cclient.delete("/specialists/its-1", headers=admin).status_code == 200
    assert announced()[1:] == [(None, None)]  # withdrawn: new plans get nobody
    assert cclient.put("/specialists/its-1", json={"name": "Ana Álvarez"}, headers=admin).status_code == 200
    assert announced()[2:] == [("its-1", "Ana Álvarez")]  # offered again: she is the default again

    # One not yet known to coaching (no sign-in) may be the default: named by subject only. Then nobody.
    assert cclient.patch("/settings", json={"default_specialist": "its-new"}, headers=admin).status_code == 200
    assert cclient.patch("/settings", json={"default_specialist": None}, headers=admin).status_code == 200
    assert announced()[3:] == [("its-new", None), (None, None)]
    # Another jurisdiction's choices are its own.
    texas = auth(tokens, ("jurisdiction_admin", "TX", "admin-tx"))
    assert cclient.patch("/settings", json={"default_specialist": "its-tx"}, headers=texas).status_code == 200
    assert (len(announced()), announced("TX")) == (5, [("its-tx", None)])
