"""The seeded curriculum over HTTP: the nine sessions in order and the six practices."""

import pytest

BACKENDS = ["sqlite", "postgres"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_facilitator_sees_nine_sessions_in_order(client, tokens, database):
    headers = tokens.headers("facilitator", "CA")
    series = client.get("/series", headers=headers)
    assert series.status_code == 200, series.json
    [rbc] = series.json["items"]
    assert rbc["title"].startswith("Relationship-Based Care for Infants and Toddlers")
    modules = client.get(f"/series/{rbc['id']}/modules", headers=headers).json["items"]
    assert [m["position"] for m in modules] == list(range(1, 10))
    assert modules[0]["title"] == "An Introduction to Relationship-Based Care for Infants and Toddlers"
    assert modules[1]["title"] == "The Foundation of Relationship-Based Care"
    assert modules[8]["title"] == "Planning for Adult Learners"
    assert [m["title"] for m in modules[2:8]] == [
        "Primary caregiving",
        "Continuity of care",
        "Small group care",
        "Individualized care",
        "Culturally responsive care",
        "Inclusive care",
    ]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_six_practices_with_seed_definitions(client, tokens, database):
    practices = client.get("/practices", headers=tokens.headers("coach", "GU")).json["items"]
    assert len(practices) == 6
    assert practices[0]["code"] == "primary-caregiving"
    assert practices[0]["definition"].startswith("Primary caregiving is the practice in which the care of each infant")
    assert practices[5]["definition"].endswith("with appropriate accommodation and support.")
