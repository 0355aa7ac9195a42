"""Adaptations over HTTP: the fidelity-review flow, tenancy, and requests that are refused without a write."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.content.domain.adaptations import FIDELITY_CHECKLIST
from services.content.models import Adaptation, AdaptationReview, Module, platform
from shared.envelope import parse_event
from shared.testing import Tokens
from tests.helpers import assert_problem, auth

BACKENDS = ["sqlite", "postgres"]

CA_FACILITATOR = ("facilitator", "CA", "fac-ca-1")
CA_OTHER_FACILITATOR = ("facilitator", "CA", "fac-ca-2")
CA_SPECIALIST = ("specialist", "CA", "spec-ca")
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TX_SPECIALIST = ("specialist", "TX", "spec-tx")
TX_FACILITATOR = ("facilitator", "TX", "fac-tx")
NATIONAL = ("national_admin", "US", "admin-us")


def module(ctx, position: int = 3) -> Module:
    with ctx.db.session() as session:
        return session.scalars(select(Module).where(Module.position == position)).one()


def counts(ctx) -> dict:
    with ctx.db.session() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Adaptation, AdaptationReview, platform.outbox)
        }


def outbox_events(ctx, event_type: str) -> list:
    with ctx.db.session() as session:
        rows = session.scalars(
            select(platform.outbox).where(platform.outbox.event_type == event_type).order_by(platform.outbox.id)
        ).all()
        return [parse_event(row.body) for row in rows]


def decisions(mod: Module, *, skip: int = 0, adapted: str | None = None) -> list[dict]:
    result = []
    for name in mod.core_components[skip:]:
        if name == adapted:
            result.append(
                {"component": name, "decision": "adapted", "rationale": "Shorter video clips for evening sessions."}
            )
        else:
            result.append({"component": name, "decision": "kept"})
    return result


def checklist(*, unmet: str | None = None) -> list[dict]:
    return [{"item": item, "met": item != unmet} for item in FIDELITY_CHECKLIST]


def create(client, tokens, mod: Module, who=CA_FACILITATOR, **overrides):
    body = {
        "module_id": mod.id,
        "title": "Evening cohort",
        "audience": "Family child care providers",
        "components": decisions(mod),
    }
    body.update(overrides)
    response = client.post("/adaptations", json=body, headers=auth(tokens, who))
    assert response.status_code == 201, response.json
    return response.json


def submit(client, tokens, adaptation_id: str, who=CA_FACILITATOR):
    return client.post(f"/adaptations/{adaptation_id}/submit", headers=auth(tokens, who))


def review(client, tokens, adaptation_id: str, body: dict, who=CA_SPECIALIST):
    return client.post(f"/adaptations/{adaptation_id}/reviews", json=body, headers=auth(tokens, who))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_draft_submit_changes_requested_resubmit_approved(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    created = create(client, tokens, mod)
    assert created["status"] == "draft"
    assert created["revision"] == 0
    assert created["tenant"] == "CA"
    assert created["facilitator"] == "fac-ca-1"
    assert created["submitted_at"] is None

    submitted = submit(client, tokens, created["id"])
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    assert submitted.json["revision"] == 1
    assert submitted.json["submitted_at"]
    [event] = outbox_events(content_ctx, "content.adaptation.submitted")
    assert event.subject == created["id"]
    assert event.tenant == "CA"
    assert event.data["revision"] == 1
    assert event.data["facilitator"] == "fac-ca-1"
    assert set(event.data["components"]) == set(mod.core_components)

    sent_back = review(
        client,
        tokens,
        created["id"],
        {
            "decision": "changes_requested",
            "checklist": checklist(unmet="Time allocated is sufficient for the learning activities"),
            "comments": "The learning activities need more than 20 minutes.",
        },
    )
    assert sent_back.status_code == 201, sent_back.json
    assert sent_back.json["revision"] == 1
    assert sent_back.json["reviewer"] == "spec-ca"
    assert [c["item"] for c in sent_back.json["checklist"]] == list(FIDELITY_CHECKLIST)
    [reviewed] = outbox_events(content_ctx, "content.adaptation.reviewed")
    assert reviewed.data["decision"] == "changes_requested"
    assert reviewed.data["reviewer"] == "spec-ca"
    assert reviewed.data["comments"] == "The learning activities need more than 20 minutes."

    facilitator = auth(tokens, CA_FACILITATOR)
    shown = client.get(f"/adaptations/{created['id']}", headers=facilitator)
    assert shown.json["status"] == "changes_requested"
    assert len(shown.json["reviews"]) == 1
    edited = client.patch(
        f"/adaptations/{created['id']}",
        headers={**facilitator, "If-Match": shown.headers["ETag"]},
        json={"components": decisions(mod, adapted="Learning activities")},
    )
    assert edited.status_code == 200, edited.json
    assert edited.json["status"] == "changes_requested"
    stale = client.patch(
        f"/adaptations/{created['id']}",
        headers={**facilitator, "If-Match": shown.headers["ETag"]},
        json={"title": "Lost update"},
    )
    assert_problem(stale, 412)

    resubmitted = submit(client, tokens, created["id"])
    assert resubmitted.status_code == 200, resubmitted.json
    assert resubmitted.json["revision"] == 2
    assert [e.data["revision"] for e in outbox_events(content_ctx, "content.adaptation.submitted")] == [1, 2]

    approved = review(client, tokens, created["id"], {"decision": "approved", "checklist": checklist()})
    assert approved.status_code == 201, approved.json
    assert approved.json["revision"] == 2
    final = client.get(f"/adaptations/{created['id']}", headers=facilitator)
    assert final.json["status"] == "approved"
    assert [r["decision"] for r in final.json["reviews"]] == ["changes_requested", "approved"]
    reviews = client.get(f"/adaptations/{created['id']}/reviews", headers=facilitator)
    assert [r["revision"] for r in reviews.json["items"]] == [1, 2]
    assert [e.data["decision"] for e in outbox_events(content_ctx, "content.adaptation.reviewed")] == [
        "changes_requested",
        "approved",
    ]

    before = counts(content_ctx)
    late = client.patch(
        f"/adaptations/{created['id']}",
        headers={**facilitator, "If-Match": final.headers["ETag"]},
        json={"title": "After approval"},
    )
    assert_problem(late, 409, "status")
    assert_problem(submit(client, tokens, created["id"]), 409, "status")
    assert counts(content_ctx) == before
    assert client.get(f"/adaptations/{created['id']}", headers=facilitator).json["title"] == "Evening cohort"


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_other_jurisdictions_and_other_facilitators_get_404(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    created = create(client, tokens, mod)
    assert submit(client, tokens, created["id"]).status_code == 200
    url = f"/adaptations/{created['id']}"
    before = counts(content_ctx)

    assert_problem(client.get(url, headers=auth(tokens, TX_SPECIALIST)), 404)
    assert_problem(client.get(f"{url}/reviews", headers=auth(tokens, TX_SPECIALIST)), 404)
    assert_problem(
        review(client, tokens, created["id"], {"decision": "approved", "checklist": checklist()}, who=TX_SPECIALIST),
        404,
    )
    tx = auth(tokens, TX_FACILITATOR)
    assert_problem(client.patch(url, headers={**tx, "If-Match": '"anything"'}, json={"title": "Mine now"}), 404)
    assert_problem(submit(client, tokens, created["id"], who=TX_FACILITATOR), 404)
    assert_problem(client.get(url, headers=auth(tokens, CA_OTHER_FACILITATOR)), 404)
    assert counts(content_ctx) == before

    assert client.get(url, headers=auth(tokens, CA_ADMIN)).status_code == 200
    assert client.get(url, headers=auth(tokens, NATIONAL)).status_code == 200
    assert client.get(url, headers=auth(tokens, CA_SPECIALIST)).status_code == 200

    def listed(who):
        return [a["id"] for a in client.get("/adaptations", headers=auth(tokens, who)).json["items"]]

    assert listed(CA_FACILITATOR) == [created["id"]]
    assert listed(CA_ADMIN) == [created["id"]]
    assert listed(NATIONAL) == [created["id"]]
    assert listed(CA_OTHER_FACILITATOR) == []
    assert listed(TX_SPECIALIST) == []


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_create_and_edit_refusals_write_nothing(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    headers = auth(tokens, CA_FACILITATOR)
    good = {"module_id": mod.id, "title": "Evening cohort", "components": decisions(mod)}
    before = counts(content_ctx)

    body = assert_problem(client.post("/adaptations", headers=headers, json={**good, "tenant": "TX"}), 422, "tenant")
    assert body["title"] == "Validation failed"
    assert_problem(
        client.post("/adaptations", headers=headers, json={**good, "facilitator": "someone"}), 422, "facilitator"
    )
    assert_problem(client.post("/adaptations", headers=headers, json={**good, "title": 5}), 422, "title")
    assert_problem(
        client.post("/adaptations", headers=headers, json={**good, "module_id": "no-such-module"}), 422, "module_id"
    )
    unknown = client.post(
        "/adaptations",
        headers=headers,
        json={**good, "components": [{"component": "Interpretive dance", "decision": "kept"}]},
    )
    assert "Interpretive dance" in assert_problem(unknown, 422, "components")["errors"]["components"][0]
    twice = [{"component": mod.core_components[0], "decision": "kept"}] * 2
    assert_problem(client.post("/adaptations", headers=headers, json={**good, "components": twice}), 422, "components")
    no_reason = [{"component": mod.core_components[0], "decision": "dropped"}]
    body = assert_problem(
        client.post("/adaptations", headers=headers, json={**good, "components": no_reason}), 422, "components"
    )
    assert "rationale" in body["errors"]["components"]["0"]
    body = assert_problem(
        client.post("/adaptations", headers=headers, data="{not json", content_type="application/json"), 400
    )
    assert body["title"] == "Malformed JSON"
    assert_problem(client.post("/adaptations", headers=headers, data="title=x", content_type="text/plain"), 415)
    assert_problem(client.post("/adaptations", headers=auth(tokens, CA_SPECIALIST), json=good), 403)
    assert counts(content_ctx) == before

    created = create(client, tokens, mod)
    url = f"/adaptations/{created['id']}"
    etag = client.get(url, headers=headers).headers["ETag"]
    before = counts(content_ctx)
    assert_problem(client.patch(url, headers=headers, json={"title": "No If-Match"}), 428)
    assert_problem(client.patch(url, headers={**headers, "If-Match": etag}, json={"status": "approved"}), 422, "status")
    assert_problem(
        client.patch(
            url, headers={**headers, "If-Match": etag}, json={"components": [{"component": "Nope", "decision": "kept"}]}
        ),
        422,
        "components",
    )
    assert counts(content_ctx) == before
    assert client.get(url, headers=headers).json["components"] == created["components"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_submit_and_review_refusals_write_nothing(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    partial = create(client, tokens, mod, components=decisions(mod, skip=2))
    before = counts(content_ctx)
    body = assert_problem(submit(client, tokens, partial["id"]), 422, "components")
    missing = " ".join(body["errors"]["components"])
    assert mod.core_components[0] in missing and mod.core_components[1] in missing
    assert mod.core_components[2] not in missing
    assert client.get(f"/adaptations/{partial['id']}", headers=auth(tokens, CA_FACILITATOR)).json["status"] == "draft"

    draft = create(client, tokens, mod)
    before = counts(content_ctx)
    assert_problem(review(client, tokens, draft["id"], {"decision": "approved", "checklist": checklist()}), 409)
    assert counts(content_ctx) == before

    assert submit(client, tokens, draft["id"]).status_code == 200
    before = counts(content_ctx)
    unmet = review(
        client,
        tokens,
        draft["id"],
        {"decision": "approved", "checklist": checklist(unmet="Key messages and objectives are preserved")},
    )
    [message] = assert_problem(unmet, 422, "checklist")["errors"]["checklist"]
    assert "Key messages and objectives are preserved" in message
    assert_problem(
        review(client, tokens, draft["id"], {"decision": "changes_requested", "checklist": checklist()}),
        422,
        "comments",
    )
    assert_problem(
        review(
            client, tokens, draft["id"], {"decision": "changes_requested", "checklist": checklist(), "comments": "   "}
        ),
        422,
        "comments",
    )
    assert_problem(
        review(client, tokens, draft["id"], {"decision": "approved", "checklist": checklist()[1:]}), 422, "checklist"
    )
    twice = checklist() + checklist()[:1]
    assert_problem(review(client, tokens, draft["id"], {"decision": "approved", "checklist": twice}), 422, "checklist")
    assert_problem(
        review(client, tokens, draft["id"], {"decision": "maybe", "checklist": checklist()}), 422, "decision"
    )
    assert_problem(
        review(client, tokens, draft["id"], {"decision": "approved", "checklist": checklist()}, who=CA_FACILITATOR), 403
    )
    assert_problem(
        review(client, tokens, draft["id"], {"decision": "approved", "checklist": checklist()}, who=CA_ADMIN), 403
    )
    both = tokens.headers("specialist", "CA", sub="fac-ca-1", roles=["facilitator", "specialist"])
    own = client.post(
        f"/adaptations/{draft['id']}/reviews", headers=both, json={"decision": "approved", "checklist": checklist()}
    )
    assert_problem(own, 403)
    assert counts(content_ctx) == before
    shown = client.get(f"/adaptations/{draft['id']}", headers=auth(tokens, CA_SPECIALIST))
    assert shown.json["status"] == "submitted"
    assert shown.json["reviews"] == []


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_credentials_get_401(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    body = {"module_id": mod.id, "title": "Evening cohort", "components": decisions(mod)}
    before = counts(content_ctx)
    expired = {"Authorization": f"Bearer {tokens.token('facilitator', 'CA', sub='fac-ca-1', ttl_seconds=-120)}"}
    assert_problem(client.post("/adaptations", headers=expired, json=body), 401)
    foreign = Tokens().headers("facilitator", "CA", sub="fac-ca-1")
    assert_problem(client.post("/adaptations", headers=foreign, json=body), 401)
    assert_problem(client.post("/adaptations", json=body), 401)
    assert_problem(client.get("/adaptations", headers=expired), 401)
    assert counts(content_ctx) == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_idempotency_key_creates_once(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    headers = {**auth(tokens, CA_FACILITATOR), "Idempotency-Key": "create-evening-cohort"}
    body = {"module_id": mod.id, "title": "Evening cohort", "components": decisions(mod)}
    first = client.post("/adaptations", headers=headers, json=body)
    again = client.post("/adaptations", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["Location"].endswith(f"/adaptations/{first.json['id']}")
    assert counts(content_ctx)["Adaptation"] == 1
    assert_problem(client.post("/adaptations", headers=headers, json={**body, "title": "Other"}), 422)

    assert submit(client, tokens, first.json["id"]).status_code == 200
    specialist = {**auth(tokens, CA_SPECIALIST), "Idempotency-Key": "approve-evening-cohort"}
    approval = {"decision": "approved", "checklist": checklist()}
    url = f"/adaptations/{first.json['id']}/reviews"
    reviewed = client.post(url, headers=specialist, json=approval)
    retried = client.post(url, headers=specialist, json=approval)
    assert reviewed.status_code == retried.status_code == 201, retried.json
    assert retried.json["id"] == reviewed.json["id"]
    assert counts(content_ctx)["AdaptationReview"] == 1
    assert len(outbox_events(content_ctx, "content.adaptation.reviewed")) == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_list_filters_pages_and_checklist(client, tokens, content_ctx, database):
    first, second = module(content_ctx, 3), module(content_ctx, 4)
    a = create(client, tokens, first, title="A")
    b = create(client, tokens, second, title="B")
    c = create(client, tokens, second, title="C")
    assert submit(client, tokens, c["id"]).status_code == 200
    headers = auth(tokens, CA_SPECIALIST)

    def ids(query: str) -> list[str]:
        response = client.get(f"/adaptations{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(f"?module_id={second.id}") == [b["id"], c["id"]]
    assert ids("?status=submitted") == [c["id"]]
    assert ids("?status=draft") == [a["id"], b["id"]]
    page = client.get("/adaptations?limit=2", headers=headers)
    assert [item["id"] for item in page.json["items"]] == [a["id"], b["id"]]
    assert page.json["next_cursor"]
    assert 'rel="next"' in page.headers["Link"]
    assert ids(f"?updated_since={c['updated_at'].replace('+', '%2B')}") == [c["id"]]
    assert_problem(client.get("/adaptations?status=lost", headers=headers), 422, "status")

    listed = client.get("/adaptations/fidelity-checklist", headers=headers)
    assert listed.status_code == 200
    assert listed.json["items"] == list(FIDELITY_CHECKLIST)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_next_cursor_reaches_the_last_page(client, tokens, content_ctx, database):
    mod = module(content_ctx)
    created = [create(client, tokens, mod, title=title)["id"] for title in ("A", "B", "C")]
    headers = auth(tokens, CA_FACILITATOR)
    first = client.get("/adaptations?limit=2", headers=headers)
    rest = client.get(f"/adaptations?limit=2&cursor={first.json['next_cursor']}", headers=headers)
    assert rest.status_code == 200, rest.json
    assert [item["id"] for item in first.json["items"] + rest.json["items"]] == created
    assert "next_cursor" not in rest.json


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_an_adaptation_names_its_module_its_facilitator_and_each_reviewer_as_they_signed_in(
    client, tokens, content_ctx, database
):
    mod = module(content_ctx)
    fran = tokens.headers("facilitator", "CA", sub="fac-ca-1", name="Fran  Facilitator")
    answer = client.post(
        "/adaptations",
        json={"module_id": mod.id, "title": "Evening cohort", "components": decisions(mod)},
        headers=fran,
    )
    assert answer.status_code == 201, answer.json
    created = answer.json
    assert (created["module_position"], created["module_title"]) == (3, mod.title)
    assert created["facilitator_name"] == "Fran Facilitator"  # spaces collapsed, as pages print names
    # She signs in under her married name before submitting: the adaptation names her as she is now.
    renamed = tokens.headers("facilitator", "CA", sub="fac-ca-1", name="Fran Ruiz")
    assert client.post(f"/adaptations/{created['id']}/submit", headers=renamed).status_code == 200
    sam = tokens.headers("specialist", "CA", sub="spec-ca", name="Sam Specialist")
    body = {"decision": "changes_requested", "checklist": checklist(), "comments": "Keep the debrief."}
    assert client.post(f"/adaptations/{created['id']}/reviews", json=body, headers=sam).status_code == 201

    [listed] = client.get("/adaptations", headers=sam).json["items"]
    assert (listed["facilitator_name"], listed["module_title"]) == ("Fran Ruiz", mod.title)
    assert [r["reviewer_name"] for r in listed["reviews"]] == ["Sam Specialist"]
    # A token that names nobody keeps the name already known.
    nameless = tokens.headers("facilitator", "CA", sub="fac-ca-1")
    patched = client.patch(
        f"/adaptations/{created['id']}",
        json={"title": "Evening cohorts"},
        headers={**nameless, "If-Match": client.get(f"/adaptations/{created['id']}", headers=nameless).headers["ETag"]},
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["facilitator_name"] == "Fran Ruiz"
