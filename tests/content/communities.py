"""Arranging a learning community over content's HTTP API, for the communities' tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.content.models import Jurisdiction
from shared.db import utcnow
from tests.helpers import arrange, auth

TRIBE = "CTUIR"

# (role, tenant, sub) of each person in the story.
STAFF = ("national_admin", "US", "staff-rosa")
CA_MEMBER = ("participant", "CA", "ca-ana")
CA_MEMBER_2 = ("specialist", "CA", "ca-ben")
TX_MEMBER = ("facilitator", "TX", "tx-cruz")
TRIBE_MEMBER = ("specialist", TRIBE, "ctuir-dana")
GUEST = ("specialist", "NY", "expert-eli")  # a guest expert: a member for the Initiative, not for NY
CA_ADMIN = ("jurisdiction_admin", "CA", "admin-ca")
TRIBE_ADMIN = ("jurisdiction_admin", TRIBE, "admin-ctuir")
CA_OUTSIDER = ("participant", "CA", "ca-outsider")  # of a member jurisdiction, not a member
NY_ADMIN = ("jurisdiction_admin", "NY", "admin-ny")  # a jurisdiction that is not a member
NY_PERSON = ("participant", "NY", "ny-fay")

CONVENE = {
    "title": "Infant/Toddler Specialist Networks",
    "focus_area": "specialist_networks",
    "description": "Teams building and sustaining specialist networks.",
    "goals": ["Map each network's reach", "Share a specialist competency framework"],
    "starts_on": "2027-06-16",  # a Wednesday: the community begins the week of Monday 14 June
    "planned_months": 12,
    "facilitators": [{"sub": "staff-rosa", "name": "Rosa Staff", "email": "rosa@example.org", "language": "en"}],
}


def add_tribe(ctx, code: str = TRIBE) -> None:
    """Content knows the Tribe (as from scheduling's ``scheduling.jurisdiction.added``)."""
    arrange(
        ctx,
        lambda s: s.merge(
            Jurisdiction(
                code=code,
                name="Confederated Tribes of the Umatilla Indian Reservation",
                kind="tribe",
                default_time_zone="America/Los_Angeles",
                announced_at=utcnow(),
            )
        ),
    )


@dataclass
class Story:
    """One community with members from CA (two), TX and a Tribe, a staff facilitator and a guest expert."""

    community: dict
    thread: dict
    reply: dict
    document: dict
    work_item: dict
    product: dict
    synthesis: dict
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.community["id"]


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.json


def member_body(who: tuple[str, str, str], kind: str = "team_member", **extra) -> dict:
    role, tenant, sub = who
    body = {"sub": sub, "kind": kind, "name": sub.replace("-", " ").title(), "email": f"{sub}@example.org"}
    if kind == "team_member":
        body["jurisdiction"] = tenant
    return {**body, **extra}


def convene(client, tokens, **changes) -> dict:
    return ok(client.post("/communities", json={**CONVENE, **changes}, headers=auth(tokens, STAFF)), 201)


def build_story(client, tokens, ctx) -> Story:
    add_tribe(ctx)
    staff = auth(tokens, STAFF)
    community = convene(client, tokens)
    cid = community["id"]
    for who, kind in (
        (CA_MEMBER, "team_member"),
        (CA_MEMBER_2, "team_member"),
        (TX_MEMBER, "team_member"),
        (TRIBE_MEMBER, "team_member"),
        (GUEST, "guest_expert"),
    ):
        ok(client.post(f"/communities/{cid}/members", json=member_body(who, kind), headers=staff), 201)
    thread = ok(
        client.post(
            f"/communities/{cid}/threads",
            json={"title": "Caseloads", "body": "How many programs does each specialist carry?"},
            headers=auth(tokens, CA_MEMBER),
        ),
        201,
    )
    reply = ok(
        client.post(
            f"/communities/{cid}/threads/{thread['id']}/replies",
            json={"body": "Our specialists carry twelve programs each, reviewed every quarter."},
            headers=auth(tokens, TRIBE_MEMBER),
        ),
        201,
    )
    document = ok(
        client.post(
            f"/communities/{cid}/documents",
            data={"title": "Network map", "file": (_pdf(), "map.pdf", "application/pdf")},
            content_type="multipart/form-data",
            headers=auth(tokens, TX_MEMBER),
        ),
        201,
    )
    work_item = ok(
        client.post(
            f"/communities/{cid}/work-items",
            json={"kind": "goal", "title": "Map each network's reach", "owner": "tx-cruz", "due_on": "2027-09-30"},
            headers=auth(tokens, TX_MEMBER),
        ),
        201,
    )
    product = ok(
        client.post(
            f"/communities/{cid}/knowledge-products",
            json={"source_kind": "reply", "source_id": reply["id"], "note": "Caseload norm"},
            headers=staff,
        ),
        201,
    )
    synthesis = ok(
        client.post(
            f"/communities/{cid}/syntheses",
            json={
                "title": "What we learnt about caseloads",
                "summary": "Caseloads vary.",
                "knowledge_products": [product["id"]],
            },
            headers=staff,
        ),
        201,
    )
    return Story(community, thread, reply, document, work_item, product, synthesis)


def _pdf() -> object:
    import io

    return io.BytesIO(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
