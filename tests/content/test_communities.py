"""Learning communities over HTTP: who sees what, what members do, consent in syntheses, bad input, 404s."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from services.content import models
from services.content.models import platform
from shared.envelope import parse_event
from tests.content.communities import (
    CA_ADMIN,
    CA_MEMBER,
    CA_MEMBER_2,
    CA_OUTSIDER,
    GUEST,
    NY_ADMIN,
    NY_PERSON,
    STAFF,
    TRIBE,
    TRIBE_ADMIN,
    TRIBE_MEMBER,
    TX_MEMBER,
    build_story,
    convene,
    member_body,
    ok,
)
from tests.helpers import assert_problem, auth

BACKENDS = ["sqlite", "postgres"]

SEES = {"member": CA_MEMBER, "member jurisdiction admin": CA_ADMIN, "staff": STAFF, "guest expert": GUEST}
BLIND = {
    "non-member of a member jurisdiction": CA_OUTSIDER,
    "another jurisdiction's admin": NY_ADMIN,
    "another jurisdiction's person": NY_PERSON,
}


def space_paths(story) -> list[str]:
    base = f"/communities/{story.id}"
    thread = f"{base}/threads/{story.thread['id']}"
    return [
        base,
        f"{base}/members",
        f"{base}/members/ca-ana",
        f"{base}/threads",
        thread,
        f"{thread}/replies",
        f"{thread}/follow",
        f"{base}/documents",
        f"{base}/documents/{story.document['id']}",
        f"{base}/documents/{story.document['id']}/download",
        f"{base}/work-items",
        f"{base}/work-items/{story.work_item['id']}",
        f"{base}/knowledge-products",
        f"{base}/knowledge-products/{story.product['id']}",
        f"{base}/syntheses",
        f"{base}/syntheses/{story.synthesis['id']}",
        f"{base}/consents",
        f"{base}/consents/CA",
    ]


def events_of(ctx, type_: str) -> list:
    with ctx.db.session() as session:
        rows = session.scalars(
            select(platform.outbox).where(platform.outbox.event_type == type_).order_by(platform.outbox.id)
        )
        return [parse_event(row.body) for row in rows]


def count(ctx, model) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_space_shows_to_members_staff_and_member_jurisdiction_admins_and_is_404_to_everyone_else(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    other = convene(client, tokens, title="Quality Rating Systems", focus_area="quality_rating_systems")
    for label, who in SEES.items():
        for path in space_paths(story):
            response = client.get(path, headers=auth(tokens, who))
            assert response.status_code == 200, (label, path, response.json)
        listed = {c["id"] for c in ok(client.get("/communities", headers=auth(tokens, who)))["items"]}
        assert story.id in listed, label
        assert (other["id"] in listed) == (who == STAFF), label  # a community without them stays hidden
    for label, who in BLIND.items():
        for path in space_paths(story):
            assert_problem(client.get(path, headers=auth(tokens, who)), 404)
        assert ok(client.get("/communities", headers=auth(tokens, who)))["items"] == [], label
        # …and nothing can be written into it either: 404, not 403, so its existence is not told.
        for path, body in (
            (f"/communities/{story.id}/threads", {"title": "Hello", "body": "Anyone?"}),
            (f"/communities/{story.id}/threads/{story.thread['id']}/replies", {"body": "Me"}),
            (f"/communities/{story.id}/work-items", {"kind": "task", "title": "Sneak"}),
        ):
            assert_problem(client.post(path, json=body, headers=auth(tokens, who)), 404)
        assert_problem(
            client.put(f"/communities/{story.id}/threads/{story.thread['id']}/follow", headers=auth(tokens, who)), 404
        )
        assert_problem(
            client.put(f"/communities/{story.id}/consents/CA", json={"choice": "attribute"}, headers=auth(tokens, who)),
            404,
        )


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_jurisdiction_admin_sees_the_space_only_while_the_jurisdiction_has_a_member(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    path = f"/communities/{story.id}/threads"
    assert client.get(path, headers=auth(tokens, CA_ADMIN)).status_code == 200
    ok(client.delete(f"/communities/{story.id}/members/ca-ana", headers=staff))
    assert client.get(path, headers=auth(tokens, CA_ADMIN)).status_code == 200  # ca-ben is still in
    assert_problem(client.get(path, headers=auth(tokens, CA_MEMBER)), 404)  # ana left: she sees nothing now
    ok(client.delete(f"/communities/{story.id}/members/ca-ben", headers=auth(tokens, CA_MEMBER_2)))  # ben leaves
    assert_problem(client.get(path, headers=auth(tokens, CA_ADMIN)), 404)
    members = ok(client.get(f"/communities/{story.id}/members", headers=staff))["items"]
    assert {m["sub"]: m["status"] for m in members}["ca-ana"] == "left"  # kept, for a synced copy
    left = events_of(content_ctx, "content.community.member_left")
    assert [e.data["member"] for e in left] == ["ca-ana", "ca-ben"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_ids_of_another_community_are_404_in_this_one(client, content_ctx, tokens, database):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    other = convene(client, tokens, title="Credentials", focus_area="credentials")
    ok(client.post(f"/communities/{other['id']}/members", json=member_body(CA_MEMBER), headers=staff), 201)
    base = f"/communities/{other['id']}"
    for path in (
        f"{base}/threads/{story.thread['id']}",
        f"{base}/threads/{story.thread['id']}/replies",
        f"{base}/threads/{story.thread['id']}/follow",
        f"{base}/documents/{story.document['id']}",
        f"{base}/documents/{story.document['id']}/download",
        f"{base}/work-items/{story.work_item['id']}",
        f"{base}/knowledge-products/{story.product['id']}",
        f"{base}/syntheses/{story.synthesis['id']}",
    ):
        for who in (CA_MEMBER, STAFF):
            assert_problem(client.get(path, headers=auth(tokens, who)), 404)
    replies_before = count(content_ctx, models.ThreadReply)
    assert_problem(
        client.post(
            f"{base}/threads/{story.thread['id']}/replies", json={"body": "x"}, headers=auth(tokens, CA_MEMBER)
        ),
        404,
    )
    assert_problem(client.post(f"{base}/syntheses/{story.synthesis['id']}/publish", headers=staff), 404)
    # Ids of another community in a body are refused as input, and nothing is written.
    products_before = count(content_ctx, models.KnowledgeProduct)
    assert_problem(
        client.post(
            f"{base}/knowledge-products", json={"source_kind": "thread", "source_id": story.thread["id"]}, headers=staff
        ),
        422,
        "source_id",
    )
    assert_problem(
        client.post(
            f"{base}/syntheses",
            json={"title": "T", "summary": "S", "knowledge_products": [story.product["id"]]},
            headers=staff,
        ),
        422,
        "knowledge_products",
    )
    assert_problem(
        client.post(
            f"{base}/work-items",
            json={"kind": "task", "title": "T", "goal_id": story.work_item["id"]},
            headers=auth(tokens, CA_MEMBER),
        ),
        422,
        "goal_id",
    )
    assert count(content_ctx, models.ThreadReply) == replies_before
    assert count(content_ctx, models.KnowledgeProduct) == products_before
    assert count(content_ctx, models.Synthesis) == 1


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_bad_input_gets_problem_details_and_writes_nothing(client, content_ctx, tokens, database):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    tables = (
        models.Community,
        models.CommunityMember,
        models.CommunityThread,
        models.ThreadReply,
        models.CommunityDocument,
        models.WorkItem,
        models.Synthesis,
        models.AttributionConsent,
        platform.outbox,
    )
    before = {t: count(content_ctx, t) for t in tables}
    base = f"/communities/{story.id}"
    cases = [
        (
            "post",
            "/communities",
            {**{"title": "X", "focus_area": "astrology", "starts_on": "2027-01-04"}},
            staff,
            422,
            "focus_area",
        ),
        (
            "post",
            "/communities",
            {"title": "X", "focus_area": "credentials", "starts_on": "next week"},
            staff,
            422,
            "starts_on",
        ),
        (
            "post",
            "/communities",
            {"title": "X", "focus_area": "credentials", "starts_on": "2027-01-04", "time_zone": "Mars/Olympus"},
            staff,
            422,
            "time_zone",
        ),
        (
            "post",
            "/communities",
            {"title": "X", "focus_area": "credentials", "starts_on": "2027-01-04", "planned_months": "12"},
            staff,
            422,
            "planned_months",
        ),
        (
            "post",
            "/communities",
            {"title": "X", "focus_area": "credentials", "starts_on": "2027-01-04", "status": "active"},
            staff,
            422,
            "status",
        ),
        (
            "post",
            "/communities",
            {
                "title": "X",
                "focus_area": "credentials",
                "starts_on": "2027-01-04",
                "facilitators": [{"sub": "a"}, {"sub": "a"}],
            },
            staff,
            422,
            "facilitators",
        ),
        (
            "post",
            "/communities",
            {"title": "X", "focus_area": "credentials", "starts_on": "2027-01-04"},
            auth(tokens, CA_ADMIN),
            403,
            None,
        ),
        ("post", f"{base}/members", {"sub": "zed", "kind": "team_member"}, staff, 422, "jurisdiction"),
        (
            "post",
            f"{base}/members",
            {"sub": "zed", "kind": "team_member", "jurisdiction": "ZZ"},
            staff,
            422,
            "jurisdiction",
        ),
        (
            "post",
            f"{base}/members",
            {"sub": "zed", "kind": "guest_expert", "jurisdiction": "CA"},
            staff,
            422,
            "jurisdiction",
        ),
        (
            "post",
            f"{base}/members",
            {"sub": "zed", "kind": "team_member", "jurisdiction": "CA", "email": "not-mail"},
            staff,
            422,
            "email",
        ),
        (
            "post",
            f"{base}/members",
            {"sub": "zed", "kind": "team_member", "jurisdiction": "CA", "language": "fr"},
            staff,
            422,
            "language",
        ),
        ("post", f"{base}/members", member_body(CA_MEMBER), staff, 409, "sub"),
        ("post", f"{base}/members", member_body(NY_PERSON), auth(tokens, CA_MEMBER), 403, None),
        ("post", f"{base}/threads", {"title": "", "body": "x"}, auth(tokens, CA_MEMBER), 422, "title"),
        ("post", f"{base}/threads", {"title": "Hi\u202e", "body": "x"}, auth(tokens, CA_MEMBER), 422, "title"),
        ("post", f"{base}/threads", {"title": "Hi", "body": "x"}, auth(tokens, CA_ADMIN), 403, None),
        (
            "post",
            f"{base}/threads/{story.thread['id']}/replies",
            {"body": "x", "author": "someone-else"},
            auth(tokens, CA_MEMBER),
            422,
            "author",
        ),
        (
            "post",
            f"{base}/documents",
            {"title": "Ref", "material_id": "no-such-material"},
            auth(tokens, CA_MEMBER),
            422,
            "material_id",
        ),
        (
            "post",
            f"{base}/work-items",
            {"kind": "task", "title": "T", "owner": "ny-fay"},
            auth(tokens, CA_MEMBER),
            422,
            "owner",
        ),
        (
            "post",
            f"{base}/work-items",
            {"kind": "task", "title": "T", "due_on": "2027-02-30"},
            auth(tokens, CA_MEMBER),
            422,
            "due_on",
        ),
        ("post", f"{base}/work-items", {"kind": "chore", "title": "T"}, auth(tokens, CA_MEMBER), 422, "kind"),
        (
            "post",
            f"{base}/syntheses",
            {"title": "T", "summary": "S", "knowledge_products": ["nope"]},
            staff,
            422,
            "knowledge_products",
        ),
        ("put", f"{base}/consents/CA", {"choice": "maybe"}, auth(tokens, CA_ADMIN), 422, "choice"),
        ("put", f"{base}/consents/TX", {"choice": "attribute"}, auth(tokens, CA_ADMIN), 403, None),
        ("put", f"{base}/consents/NY", {"choice": "attribute"}, auth(tokens, STAFF), 404, None),
    ]
    for method, path, body, headers, status, name in cases:
        response = getattr(client, method)(path, json=body, headers=headers)
        assert_problem(response, status, *([name] if name else []))
    upload = client.post(
        f"{base}/documents",
        data={"title": "Program", "file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 64), "run.exe", "application/pdf")},
        content_type="multipart/form-data",
        headers=auth(tokens, CA_MEMBER),
    )
    assert_problem(upload, 415, "file")
    assert_problem(
        client.post(f"{base}/threads", data="title=x", content_type="text/plain", headers=auth(tokens, CA_MEMBER)), 415
    )
    assert {t: count(content_ctx, t) for t in tables} == before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_changes_through_another_community_from_outside_or_with_bad_values_are_refused_and_change_nothing(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    other = convene(client, tokens, title="Credentials", focus_area="credentials")
    ok(client.post(f"/communities/{other['id']}/members", json=member_body(CA_MEMBER), headers=staff), 201)
    base, elsewhere = f"/communities/{story.id}", f"/communities/{other['id']}"
    community, thread = base, f"{base}/threads/{story.thread['id']}"
    item, synthesis = f"{base}/work-items/{story.work_item['id']}", f"{base}/syntheses/{story.synthesis['id']}"

    def seen() -> list:
        return [ok(client.get(path, headers=staff)) for path in (community, thread, item, synthesis)]

    def etag(path: str) -> str:
        return client.get(path, headers=staff).headers["ETag"]

    before, outbox_before = seen(), count(content_ctx, platform.outbox)
    members_before = count(content_ctx, models.CommunityMember)

    # Another community's path to this one's rows: 404, whoever asks, even with the row's own ETag.
    for path, body, who in (
        (f"{elsewhere}/work-items/{story.work_item['id']}", {"status": "done"}, CA_MEMBER),
        (f"{elsewhere}/syntheses/{story.synthesis['id']}", {"title": "Hijacked"}, STAFF),
    ):
        real = path.replace(elsewhere, base)
        headers = {**auth(tokens, who), "If-Match": etag(real)}
        assert_problem(client.patch(path, json=body, headers=headers), 404)
    assert_problem(
        client.delete(f"{elsewhere}/threads/{story.thread['id']}/follow", headers=auth(tokens, CA_MEMBER)), 404
    )
    # Another jurisdiction, or a person of a member jurisdiction who is not a member: 404 for a member's change.
    for who in (NY_ADMIN, NY_PERSON, CA_OUTSIDER):
        headers = {**auth(tokens, who), "If-Match": etag(item)}
        assert_problem(client.patch(item, json={"status": "done"}, headers=headers), 404)
        assert_problem(client.delete(f"{base}/members/ca-ana", headers=auth(tokens, who)), 404)
        assert_problem(client.delete(f"{thread}/follow", headers=auth(tokens, who)), 404)
        # Staff's changes are refused to their role at the door, the same for any id: that tells nothing either.
        for path, body in ((community, {"status": "active"}), (synthesis, {"title": "X"})):
            headers = {**auth(tokens, who), "If-Match": etag(path)}
            real = client.patch(path, json=body, headers=headers)
            unknown = client.patch(path.replace(story.id, "no-such-community"), json=body, headers=headers)
            assert assert_problem(real, 403) == assert_problem(unknown, 403)

    # Bad values in a change, with the right ETag: a problem naming the field.
    for path, body, who, name in (
        (community, {"status": "dormant"}, STAFF, "status"),
        (community, {"planned_months": 99}, STAFF, "planned_months"),
        (community, {"starts_on": "soon"}, STAFF, "starts_on"),
        (community, {"facilitators": ["nobody-here"]}, STAFF, "facilitators"),
        (item, {"status": "finished"}, CA_MEMBER, "status"),
        (item, {"owner": "ny-fay"}, CA_MEMBER, "owner"),
        (item, {"due_on": "2027-02-30"}, CA_MEMBER, "due_on"),
        (synthesis, {"knowledge_products": ["nope"]}, STAFF, "knowledge_products"),
        (synthesis, {"title": ""}, STAFF, "title"),
    ):
        response = client.patch(path, json=body, headers={**auth(tokens, who), "If-Match": etag(path)})
        assert_problem(response, 422, name)
    assert_problem(client.post(f"{thread}/replies", json={"body": ""}, headers=auth(tokens, CA_MEMBER)), 422, "body")

    assert seen() == before
    assert count(content_ctx, platform.outbox) == outbox_before
    assert count(content_ctx, models.CommunityMember) == members_before


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_lifecycle_moves_only_forward_by_its_rule_and_a_closed_space_takes_no_posts(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    path = f"/communities/{story.id}"

    def move(status: str):
        etag = client.get(path, headers=staff).headers["ETag"]
        return client.patch(path, json={"status": status}, headers={**staff, "If-Match": etag})

    assert_problem(client.patch(path, json={"status": "active"}, headers=staff), 428)
    assert_problem(move("closing"), 409, "status")  # convening cannot jump to closing
    assert ok(move("active"))["status"] == "active"
    assert_problem(move("convening"), 409, "status")
    assert ok(move("closing"))["status"] == "closing"
    assert ok(move("closed"))["status"] == "closed"
    assert_problem(move("active"), 409, "status")
    updates = events_of(content_ctx, "content.community.updated")
    assert [e.data["status"] for e in updates] == ["active", "closing", "closed"]
    assert_problem(
        client.post(f"{path}/threads", json={"title": "Late", "body": "x"}, headers=auth(tokens, CA_MEMBER)),
        409,
        "status",
    )
    assert client.get(f"{path}/threads", headers=auth(tokens, CA_MEMBER)).status_code == 200  # still readable


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_convening_and_membership_are_announced_once_each_with_the_contract_payloads(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    [convened] = events_of(content_ctx, "content.community.convened")
    assert convened.tenant == "national" and convened.subject == story.id
    assert convened.data == {
        "community_id": story.id,
        "title": "Infant/Toddler Specialist Networks",
        "focus_area": "specialist_networks",
        "status": "convening",
        "starts_on": date(2027, 6, 14),  # the Monday of the start week (parsed by the catalogue's schema)
        "planned_months": 12,
        "facilitators": ["staff-rosa"],
        "time_zone": "America/New_York",
    }
    assert story.community["starts_on"] == "2027-06-14"
    joined = events_of(content_ctx, "content.community.member_joined")
    assert [e.data["member"] for e in joined] == [
        "staff-rosa",
        "ca-ana",
        "ca-ben",
        "tx-cruz",
        "ctuir-dana",
        "expert-eli",
    ]
    by_member = {e.data["member"]: e.data for e in joined}
    assert by_member["staff-rosa"] == {
        "community_id": story.id,
        "community_title": "Infant/Toddler Specialist Networks",
        "member": "staff-rosa",
        "kind": "staff",
        "jurisdiction": None,
        "name": "Rosa Staff",
        "email": "rosa@example.org",
        "time_zone": None,
        "language": "en",
    }
    assert by_member["ctuir-dana"]["jurisdiction"] == TRIBE and by_member["ctuir-dana"]["kind"] == "team_member"
    assert by_member["expert-eli"]["kind"] == "guest_expert" and by_member["expert-eli"]["jurisdiction"] is None
    # The relay publishes each outbox row once (shared.messaging.outbox); one row per change here.
    assert len({e.id for e in joined}) == 6


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_authors_and_repliers_follow_unless_they_unfollowed_and_the_reply_event_names_who_to_tell(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    base = f"/communities/{story.id}/threads/{story.thread['id']}"
    assert ok(client.get(f"{base}/follow", headers=auth(tokens, CA_MEMBER)))["following"] is True  # the author
    assert ok(client.get(f"{base}/follow", headers=auth(tokens, TRIBE_MEMBER)))["following"] is True  # a replier
    assert ok(client.get(f"{base}/follow", headers=auth(tokens, TX_MEMBER)))["following"] is False
    assert ok(client.put(f"{base}/follow", headers=auth(tokens, TX_MEMBER)))["following"] is True
    assert ok(client.delete(f"{base}/follow", headers=auth(tokens, TRIBE_MEMBER)))["following"] is False
    assert_problem(client.put(f"{base}/follow", headers=auth(tokens, CA_ADMIN)), 403)  # sees, but is not a member

    long_body = "Word " * 100
    ok(
        client.post(
            f"{base}/replies", json={"body": "A second thought from the Tribe."}, headers=auth(tokens, TRIBE_MEMBER)
        ),
        201,
    )
    assert (
        ok(client.get(f"{base}/follow", headers=auth(tokens, TRIBE_MEMBER)))["following"] is False
    )  # still unfollowed
    reply = ok(client.post(f"{base}/replies", json={"body": long_body}, headers=auth(tokens, GUEST)), 201)

    replied = events_of(content_ctx, "content.thread.replied")
    assert len(replied) == 3  # one per reply, the story's included
    assert replied[0].data["followers"] == ["ca-ana"]  # the author; not the replier herself
    assert replied[1].data["followers"] == ["ca-ana", "tx-cruz"]  # dana unfollowed before replying again
    last = replied[2].data
    assert last["followers"] == ["ca-ana", "tx-cruz"]  # the guest follows now, but is the author here
    assert last["reply_id"] == reply["id"] and last["author"] == "expert-eli" and last["author_name"] == "Expert Eli"
    assert last["thread_title"] == "Caseloads" and last["community_title"] == "Infant/Toddler Specialist Networks"
    assert last["excerpt"] == " ".join(long_body.split())[:280] and len(last["excerpt"]) == 280
    assert replied[2].subject == story.thread["id"] and replied[2].tenant == "national"
    thread = ok(client.get(base, headers=auth(tokens, CA_MEMBER)))
    assert thread["reply_count"] == 3

    # A member who leaves is no longer told.
    ok(client.delete(f"/communities/{story.id}/members/tx-cruz", headers=auth(tokens, STAFF)))
    ok(client.post(f"{base}/replies", json={"body": "Thanks all."}, headers=auth(tokens, CA_MEMBER)), 201)
    assert events_of(content_ctx, "content.thread.replied")[-1].data["followers"] == ["expert-eli"]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_documents_are_uploaded_files_or_references_to_national_materials(client, content_ctx, tokens, database):
    from tests.content.test_materials import PDF, create_material, national_module_id, publish, upload

    story = build_story(client, tokens, content_ctx)
    base = f"/communities/{story.id}/documents"
    download = client.get(f"{base}/{story.document['id']}/download", headers=auth(tokens, CA_MEMBER))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert story.document["source"] == "file" and story.document["author_jurisdiction"] == "TX"

    staff = tokens.headers("national_admin", "US")
    material = create_material(client, staff, national_module_id(client, tokens, 2), kind="resource", title="Guide")
    assert upload(client, staff, material["id"], PDF).status_code == 201
    # Not yet published: members cannot read it, so it cannot be shared.
    assert_problem(
        client.post(base, json={"title": "Guide", "material_id": material["id"]}, headers=auth(tokens, CA_MEMBER)),
        422,
        "material_id",
    )
    assert publish(client, staff, material["id"]).status_code == 200
    shared = ok(
        client.post(base, json={"title": "Guide", "material_id": material["id"]}, headers=auth(tokens, CA_MEMBER)), 201
    )
    assert shared["source"] == "material" and shared["material_version"] == 1 and shared["sha256"] is None
    assert_problem(client.get(f"{base}/{shared['id']}/download", headers=auth(tokens, CA_MEMBER)), 404)
    listed = ok(client.get(base, headers=auth(tokens, TX_MEMBER)))["items"]
    assert {d["id"] for d in listed} == {story.document["id"], shared["id"]}


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_the_work_plan_is_the_members_own(client, content_ctx, tokens, database):
    story = build_story(client, tokens, content_ctx)
    base = f"/communities/{story.id}/work-items"
    task = ok(
        client.post(
            base,
            json={
                "kind": "task",
                "title": "Survey the networks",
                "goal_id": story.work_item["id"],
                "owner": "ca-ana",
                "due_on": "2027-08-01",
            },
            headers=auth(tokens, CA_MEMBER),
        ),
        201,
    )
    item = client.get(f"{base}/{task['id']}", headers=auth(tokens, TX_MEMBER))
    changed = ok(
        client.patch(
            f"{base}/{task['id']}",
            json={"status": "in_progress", "owner": "tx-cruz"},
            headers={**auth(tokens, TX_MEMBER), "If-Match": item.headers["ETag"]},
        )
    )
    assert changed["status"] == "in_progress" and changed["owner"] == "tx-cruz"
    stale = client.patch(
        f"{base}/{task['id']}",
        json={"status": "done"},
        headers={**auth(tokens, CA_MEMBER), "If-Match": item.headers["ETag"]},
    )
    assert_problem(stale, 412)
    assert_problem(
        client.patch(
            f"{base}/{task['id']}",
            json={"status": "done"},
            headers={
                **auth(tokens, CA_ADMIN),
                "If-Match": client.get(f"{base}/{task['id']}", headers=auth(tokens, CA_ADMIN)).headers["ETag"],
            },
        ),
        403,
    )
    goals = ok(client.get(base, query_string={"kind": "goal"}, headers=auth(tokens, CA_MEMBER)))["items"]
    assert [g["id"] for g in goals] == [story.work_item["id"]]


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_one_community_shows_where_its_work_plan_stands_and_its_etag_follows_the_plan(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    base = f"/communities/{story.id}"
    for body in (
        {"kind": "task", "title": "Overdue survey", "due_on": "2020-01-31"},
        {"kind": "task", "title": "Finished map", "due_on": "2020-01-01", "status": "done"},
        {"kind": "task", "title": "Undated idea"},
    ):
        ok(client.post(f"{base}/work-items", json=body, headers=auth(tokens, CA_MEMBER)), 201)
    read = client.get(base, headers=auth(tokens, TX_MEMBER))
    assert read.json["work_plan"] == {
        "goals": 1,
        "tasks": 3,
        "open": 3,
        "in_progress": 0,
        "done": 1,
        "dropped": 0,
        "overdue": 1,
        "next_due": {"id": story.work_item["id"], "title": "Map each network's reach", "due_on": "2027-09-30"},
    }
    # A list of communities stays one statement a page: no summary there.
    assert all("work_plan" not in c for c in ok(client.get("/communities", headers=auth(tokens, STAFF)))["items"])
    # The summary is part of what the ETag covers, so a change of the plan makes an earlier read stale.
    ok(
        client.post(f"{base}/work-items", json={"kind": "task", "title": "One more"}, headers=auth(tokens, CA_MEMBER)),
        201,
    )
    assert_problem(
        client.patch(
            base, json={"title": "Renamed"}, headers={**auth(tokens, STAFF), "If-Match": read.headers["ETag"]}
        ),
        412,
    )
    fresh = client.get(base, headers=auth(tokens, STAFF))
    renamed = ok(
        client.patch(
            base, json={"title": "Renamed"}, headers={**auth(tokens, STAFF), "If-Match": fresh.headers["ETag"]}
        )
    )
    assert renamed["title"] == "Renamed" and renamed["work_plan"]["tasks"] == 4


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_a_published_synthesis_is_read_by_every_jurisdiction_as_consent_allows_while_the_space_stays_hidden(
    client, content_ctx, tokens, database
):
    story = build_story(client, tokens, content_ctx)
    staff = auth(tokens, STAFF)
    base = f"/communities/{story.id}"
    # Contributions of CA, TX and the Tribe, and of the guest expert.
    posts = {
        "CA": ok(
            client.post(
                f"{base}/threads",
                json={"title": "CA's credential ladder", "body": "Three rungs."},
                headers=auth(tokens, CA_MEMBER),
            ),
            201,
        ),
        "GUEST": ok(
            client.post(
                f"{base}/threads",
                json={"title": "Research on caseloads", "body": "Evidence."},
                headers=auth(tokens, GUEST),
            ),
            201,
        ),
    }
    products = [story.product["id"]]  # the Tribe's reply
    for post in posts.values():
        products.append(
            ok(
                client.post(
                    f"{base}/knowledge-products", json={"source_kind": "thread", "source_id": post["id"]}, headers=staff
                ),
                201,
            )["id"]
        )
    products.append(
        ok(
            client.post(
                f"{base}/knowledge-products",
                json={"source_kind": "document", "source_id": story.document["id"]},
                headers=staff,
            ),
            201,
        )["id"]
    )
    sid = story.synthesis["id"]
    draft = client.get(f"{base}/syntheses/{sid}", headers=staff)
    ok(
        client.patch(
            f"{base}/syntheses/{sid}",
            json={"knowledge_products": products},
            headers={**staff, "If-Match": draft.headers["ETag"]},
        )
    )
    ny = auth(tokens, NY_ADMIN)
    assert_problem(client.get(f"/syntheses/{sid}", headers=ny), 404)  # a draft is not published
    ok(client.post(f"{base}/syntheses/{sid}/publish", headers={**staff, "X-Correlation-ID": "publish-caseloads"}))
    assert_problem(client.post(f"{base}/syntheses/{sid}/publish", headers=staff), 409)

    def contributions() -> dict:
        read = ok(client.get(f"/syntheses/{sid}", headers=ny))
        return {c["title"]: (c["attribution"], c["jurisdiction"]) for c in read["contributions"]}

    # No consent recorded: the Tribe's reply is left out, CA and TX appear unattributed, the expert as the Initiative's.
    assert contributions() == {
        "CA's credential ladder": ("anonymised", None),
        "Research on caseloads": ("initiative", None),
        "Network map": ("anonymised", None),
    }
    assert ok(client.get(f"{base}/consents/{TRIBE}", headers=auth(tokens, TRIBE_ADMIN))) == {
        "community_id": story.id,
        "jurisdiction": TRIBE,
        "choice": "exclude",
        "recorded": False,
        "recorded_by": None,
        "recorded_at": None,
        "updated_at": None,
    }
    # The Tribe's admin consents to be summarised without attribution; CA's to be named; TX leaves itself out.
    tribe = ok(client.put(f"{base}/consents/{TRIBE}", json={"choice": "anonymise"}, headers=auth(tokens, TRIBE_ADMIN)))
    assert tribe["recorded"] is True and tribe["recorded_by"] == "admin-ctuir" and tribe["recorded_at"]
    ok(client.put(f"{base}/consents/CA", json={"choice": "attribute"}, headers=auth(tokens, CA_ADMIN)))
    ok(
        client.put(
            f"{base}/consents/TX",
            json={"choice": "exclude"},
            headers=auth(tokens, ("jurisdiction_admin", "TX", "admin-tx")),
        )
    )
    assert contributions() == {
        "Re: Caseloads": ("anonymised", None),
        "CA's credential ladder": ("attributed", "CA"),
        "Research on caseloads": ("initiative", None),
    }
    ok(client.put(f"{base}/consents/{TRIBE}", json={"choice": "attribute"}, headers=auth(tokens, TRIBE_ADMIN)))
    assert contributions()["Re: Caseloads"] == ("attributed", TRIBE)
    listed = ok(client.get("/syntheses", headers=auth(tokens, NY_PERSON)))["items"]
    assert [s["id"] for s in listed] == [sid] and listed[0]["community_title"] == story.community["title"]
    assert "knowledge_products" not in listed[0]  # the public view names no post of the hidden space
    # The fourth jurisdiction reads the synthesis; the community's space stays hidden from it.
    for path in (base, f"{base}/threads", f"{base}/syntheses/{sid}", f"{base}/documents"):
        assert_problem(client.get(path, headers=ny), 404)
    [event] = events_of(content_ctx, "content.synthesis.published")
    assert event.data == {
        "community_id": story.id,
        "community_title": story.community["title"],
        "synthesis_id": sid,
        "title": "What we learnt about caseloads",
        "published_at": event.data["published_at"],
    }
    assert event.correlationid == "publish-caseloads" and event.subject == sid
