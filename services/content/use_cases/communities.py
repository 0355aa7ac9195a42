"""Learning communities' use cases: convene, members, threads and follows, documents, work plan, knowledge
products, syntheses and consent. Each commits once, with the events it announces in the same transaction."""

from __future__ import annotations

import filetype

from services.content import events
from services.content import repository as curriculum
from services.content.domain import communities as rules
from services.content.domain import materials as material_rules
from services.content.models import (
    AttributionConsent,
    Community,
    CommunityDocument,
    CommunityMember,
    CommunityThread,
    KnowledgeProduct,
    Synthesis,
    ThreadFollow,
    ThreadReply,
    WorkItem,
)
from services.content.repository import communities as repo
from services.content.repository.communities import Space
from services.content.storage import FileStorage, TooLarge
from services.content.use_cases.materials import IncomingFile, _read_head, _Rewound, get_version
from shared.auth import Principal
from shared.db import IntegrityError, UnitOfWork, lock_row, utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.jurisdictions import is_jurisdiction

PERSON_FIELDS = ("name", "email", "time_zone", "language")


def _staff_only(space: Space) -> None:
    if not space.viewer.staff:
        raise Forbidden("Only the Initiative's staff (national admins) do this.")


def _lock(uow: UnitOfWork, row) -> None:
    """Reload ``row`` under a row lock (PostgreSQL), so concurrent changes to it queue up."""
    lock_row(uow.session, row)


def _flush(uow: UnitOfWork, detail: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(detail) from None


# --- communities --------------------------------------------------------------------------------------


def convene(data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str) -> Community:
    """Convene a community in its start week; its facilitators join as staff members."""
    facilitators = data.pop("facilitators", [])
    subs = [person["sub"] for person in facilitators]
    if len(set(subs)) != len(subs):
        raise InvalidInput("Each facilitator once.", errors={"facilitators": ["A person is named twice."]})
    community = Community(
        **data,
        status=rules.CONVENING,
        facilitators=subs,
        member_count=0,
        created_by=who.sub,
    )
    community.starts_on = rules.start_week(data["starts_on"])
    uow.session.add(community)
    uow.session.flush()
    events.community_convened(uow.session, community, correlationid=correlationid)
    for person in facilitators:
        _join(uow, community, {**person, "kind": rules.STAFF, "jurisdiction": None}, correlationid=correlationid)
    uow.commit()
    return community


def update_community(space: Space, data: dict, uow: UnitOfWork, *, correlationid: str) -> Community:
    """Change a community's description, plan or status (by the lifecycle's rule), and announce it."""
    _staff_only(space)
    community = space.community
    if "status" in data:
        data["status"] = rules.transition(community.status, data["status"])
    if "starts_on" in data:
        data["starts_on"] = rules.start_week(data["starts_on"])
    if "facilitators" in data:
        staff = repo.current_staff(uow.session, community.id)
        strangers = [sub for sub in data["facilitators"] if sub not in staff]
        if strangers:
            raise InvalidInput(
                "Facilitators are current staff members of the community; add them as members first.",
                errors={"facilitators": [f"Not a staff member: {sub}." for sub in strangers]},
            )
        data["facilitators"] = list(dict.fromkeys(data["facilitators"]))
    changed = False
    for name, value in data.items():
        if getattr(community, name) != value:
            setattr(community, name, value)
            changed = True
    if changed:
        events.community_updated(uow.session, community, correlationid=correlationid)
    uow.commit()
    return community


# --- members ------------------------------------------------------------------------------------------


def _join(uow: UnitOfWork, community: Community, data: dict, *, correlationid: str) -> CommunityMember:
    row = repo.member_row(uow.session, community.id, data["sub"])
    if row is not None and row.status == rules.JOINED:
        raise Conflict(f"{data['sub']} is already a member.", errors={"sub": ["Already a member."]})
    if row is None:
        row = CommunityMember(community_id=community.id, sub=data["sub"])
        uow.session.add(row)
    row.kind, row.jurisdiction = data["kind"], data.get("jurisdiction")
    for name in PERSON_FIELDS:
        setattr(row, name, data.get(name))
    row.status, row.joined_at, row.left_at, row.updated_at = rules.JOINED, utcnow(), None, utcnow()
    community.member_count = (community.member_count or 0) + 1  # a new marker: the community shows to more
    _flush(uow, "The member was added at the same moment by someone else.")
    events.member_joined(uow.session, community, row, correlationid=correlationid)
    return row


def add_member(space: Space, data: dict, uow: UnitOfWork, *, correlationid: str, knows) -> CommunityMember:
    """Add a team member of a jurisdiction, a staff facilitator or a guest expert; tell the other services."""
    _staff_only(space)
    rules.check_open(space.community.status)
    jurisdiction = data.get("jurisdiction")
    rules.check_member(data["kind"], jurisdiction, known=bool(jurisdiction) and knows(jurisdiction))
    _lock(uow, space.community)
    member = _join(uow, space.community, data, correlationid=correlationid)
    uow.commit()
    return member


def remove_member(space: Space, sub: str, uow: UnitOfWork, *, correlationid: str) -> CommunityMember:
    """A member leaves (staff remove anyone; a member may leave): the row stays, marked left."""
    if not (space.viewer.staff or space.viewer.sub == sub):
        raise Forbidden("Only staff remove members; a member may leave.")
    row = repo.membership(uow.session, space.community.id, sub)
    if row is None:
        raise NotFound("No current member with this sub.")
    _lock(uow, space.community)
    community = space.community
    row.status, row.left_at, row.updated_at = rules.LEFT, utcnow(), utcnow()
    community.member_count = max((community.member_count or 1) - 1, 0)
    if sub in community.facilitators:
        community.facilitators = [s for s in community.facilitators if s != sub]
        events.community_updated(uow.session, community, correlationid=correlationid)
    events.member_left(uow.session, community, row, correlationid=correlationid)
    uow.commit()
    return row


# --- threads, replies, follows -----------------------------------------------------------------------


def _author(space: Space, who: Principal) -> dict:
    member = space.member
    return {
        "author": who.sub,
        "author_name": (member.name if member and member.name else who.name) or None,
        "author_kind": member.kind if member else rules.STAFF,
        "author_jurisdiction": member.jurisdiction if member else None,
    }


def _may_post(space: Space) -> None:
    rules.check_may_post(space.viewer, is_member=space.is_member)
    rules.check_open(space.community.status)


def _set_follow(uow: UnitOfWork, space: Space, thread_id: str, sub: str, following: bool | None) -> ThreadFollow:
    """Record ``sub``'s choice; ``following=None`` follows unless they chose not to (an author or replier)."""
    row = repo.follow_choices(uow.session, thread_id).get(sub)
    if row is None:
        row = ThreadFollow(community_id=space.community.id, thread_id=thread_id, sub=sub, following=True)
        uow.session.add(row)
    if following is not None and row.following != following:
        row.following, row.updated_at = following, utcnow()
    return row


def start_thread(space: Space, data: dict, uow: UnitOfWork, who: Principal) -> CommunityThread:
    """Open a discussion thread; its author follows it."""
    _may_post(space)
    thread = CommunityThread(community_id=space.community.id, reply_count=0, **data, **_author(space, who))
    uow.session.add(thread)
    uow.session.flush()
    _set_follow(uow, space, thread.id, who.sub, None)
    uow.commit()
    return thread


def reply(
    space: Space, thread: CommunityThread, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str
) -> ThreadReply:
    """Reply to a thread: the replier follows it (unless they unfollowed), and its followers hear of it."""
    _may_post(space)
    _lock(uow, thread)
    now = utcnow()
    row = ThreadReply(
        community_id=space.community.id, thread_id=thread.id, created_at=now, **data, **_author(space, who)
    )
    uow.session.add(row)
    thread.reply_count = (thread.reply_count or 0) + 1
    thread.last_reply_at = now
    _set_follow(uow, space, thread.id, who.sub, None)
    uow.session.flush()
    choices = {sub: choice.following for sub, choice in repo.follow_choices(uow.session, thread.id).items()}
    followers = rules.to_tell(choices, author=who.sub, members=repo.active_member_subs(uow.session, space.community.id))
    events.thread_replied(
        uow.session,
        space.community,
        thread,
        row,
        excerpt=rules.excerpt(row.body),
        followers=followers,
        correlationid=correlationid,
    )
    uow.commit()
    return row


def following(uow: UnitOfWork, space: Space, thread: CommunityThread, who: Principal) -> dict:
    row = repo.follow_choices(uow.session, thread.id).get(who.sub)
    return {"thread_id": thread.id, "following": bool(row and row.following)}


def follow(space: Space, thread: CommunityThread, want: bool, uow: UnitOfWork, who: Principal) -> dict:
    """Follow or unfollow a thread; an unfollow holds even after the person replies again."""
    rules.check_may_follow(is_member=space.is_member)
    row = _set_follow(uow, space, thread.id, who.sub, want)
    _flush(uow, "Your choice was recorded at the same moment by another request; send it again.")
    uow.commit()
    return {"thread_id": thread.id, "following": row.following}


# --- documents ----------------------------------------------------------------------------------------


def add_file_document(
    space: Space,
    incoming: IncomingFile,
    form: dict,
    uow: UnitOfWork,
    who: Principal,
    *,
    storage: FileStorage,
    max_bytes: int,
) -> CommunityDocument:
    """Keep a document the community wrote: a PDF, Word, OpenDocument, PowerPoint or image file."""
    _may_post(space)
    head = _read_head(incoming.stream)
    # The types a resource material takes; checked before anything is stored.
    media_type = material_rules.check_file_type("resource", incoming.media_type, filetype.guess_mime(head))
    try:
        stored = storage.save(_Rewound(head, incoming.stream), max_bytes)
    except TooLarge:
        raise material_rules.FileTooLarge(
            f"The file is larger than the limit of {max_bytes} bytes.", errors={"file": [f"At most {max_bytes} bytes."]}
        ) from None
    document = CommunityDocument(
        community_id=space.community.id,
        title=form["title"],
        description=form.get("description", ""),
        source="file",
        filename=material_rules.clean_filename(incoming.filename, number=1, media_type=media_type),
        media_type=media_type,
        size=stored.size,
        sha256=stored.sha256,
        **_author(space, who),
    )
    uow.session.add(document)
    uow.commit()
    return document


def add_material_document(space: Space, data: dict, uow: UnitOfWork, who: Principal) -> CommunityDocument:
    """Point the community at a version of a national material (content's curriculum)."""
    _may_post(space)
    wrong = {"material_id": ["No national material with this id."]}
    try:
        material = curriculum.get_material(uow.session, data["material_id"], who)
    except NotFound:
        raise InvalidInput("No national material with this id.", errors=wrong) from None
    if material.tenant is not None:
        # A community spans jurisdictions: one jurisdiction's own material is not the others' to read.
        raise InvalidInput("Only national materials are shared with a community.", errors=wrong)
    number = data.get("material_version") or material.published_version
    if number is None:
        raise InvalidInput(
            "The material has no published version yet.", errors={"material_version": ["Nothing published."]}
        )
    try:
        get_version(uow.session, material, number, who)
    except NotFound:
        raise InvalidInput(
            f"Version {number} of this material is not one you can read.",
            errors={"material_version": ["No such readable version."]},
        ) from None
    document = CommunityDocument(
        community_id=space.community.id,
        title=data["title"],
        description=data.get("description", ""),
        source="material",
        material_id=material.id,
        material_version=number,
        **_author(space, who),
    )
    uow.session.add(document)
    uow.commit()
    return document


# --- work plan ----------------------------------------------------------------------------------------


def _check_work_item(uow: UnitOfWork, space: Space, kind: str, data: dict, item_id: str | None = None) -> None:
    errors = {}
    owner = data.get("owner")
    if owner and repo.membership(uow.session, space.community.id, owner) is None:
        errors["owner"] = ["Not a current member of the community."]
    goal_id = data.get("goal_id")
    if goal_id:
        try:
            goal = repo.get_work_item(uow.session, space, goal_id)
        except NotFound:
            goal = None
        if goal is None or goal.kind != rules.GOAL or goal.id == item_id:
            errors["goal_id"] = ["Not a goal of this community's work plan."]
        elif kind == rules.GOAL:
            errors["goal_id"] = ["A goal is not under another goal."]
    if errors:
        raise InvalidInput("The work item does not fit the community's work plan.", errors=errors)


def add_work_item(space: Space, data: dict, uow: UnitOfWork, who: Principal) -> WorkItem:
    _may_post(space)
    _check_work_item(uow, space, data["kind"], data)
    item = WorkItem(community_id=space.community.id, created_by=who.sub, **data)
    uow.session.add(item)
    uow.commit()
    return item


def update_work_item(space: Space, item: WorkItem, data: dict, uow: UnitOfWork) -> WorkItem:
    _may_post(space)
    _check_work_item(uow, space, item.kind, data, item.id)
    for name, value in data.items():
        setattr(item, name, value)
    uow.commit()
    return item


# --- knowledge products, syntheses, consent ----------------------------------------------------------


def mark_knowledge_product(space: Space, data: dict, uow: UnitOfWork, who: Principal) -> KnowledgeProduct:
    """Staff mark a thread, reply or document of the community as knowledge it produced."""
    _staff_only(space)
    kind, source_id = data["source_kind"], data["source_id"]
    find = {rules.THREAD: repo.get_thread, rules.REPLY: repo.get_reply, rules.DOCUMENT: repo.get_document}[kind]
    try:
        source = find(uow.session, space, source_id)
    except NotFound:
        raise InvalidInput(f"No {kind} with this id in this community.", errors={"source_id": ["Not found."]}) from None
    if kind == rules.REPLY:
        thread = repo.get_thread(uow.session, space, source.thread_id)
        title, text = f"Re: {thread.title}", source.body
    elif kind == rules.THREAD:
        title, text = source.title, source.body
    else:
        title, text = source.title, source.description or source.title
    product = KnowledgeProduct(
        community_id=space.community.id,
        source_kind=kind,
        source_id=source.id,
        title=title[:300],
        excerpt=rules.excerpt(text, 2000),
        jurisdiction=source.author_jurisdiction,
        note=data.get("note", ""),
        marked_by=who.sub,
    )
    uow.session.add(product)
    _flush(uow, "This post is already a knowledge product.")
    uow.commit()
    return product


def _check_products(uow: UnitOfWork, space: Space, ids: list[str]) -> list[str]:
    ids = list(dict.fromkeys(ids))
    found = repo.knowledge_products_by_id(uow.session, space.community.id, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            "A synthesis draws on this community's knowledge products.",
            errors={"knowledge_products": [f"Not a knowledge product of this community: {i}." for i in missing]},
        )
    return ids


def draft_synthesis(space: Space, data: dict, uow: UnitOfWork, who: Principal) -> Synthesis:
    _staff_only(space)
    data["knowledge_products"] = _check_products(uow, space, data.get("knowledge_products", []))
    synthesis = Synthesis(community_id=space.community.id, status=rules.DRAFT, created_by=who.sub, **data)
    uow.session.add(synthesis)
    uow.commit()
    return synthesis


def update_synthesis(space: Space, synthesis: Synthesis, data: dict, uow: UnitOfWork) -> Synthesis:
    _staff_only(space)
    rules.check_editable_synthesis(synthesis.status)
    if "knowledge_products" in data:
        data["knowledge_products"] = _check_products(uow, space, data["knowledge_products"])
    for name, value in data.items():
        setattr(synthesis, name, value)
    uow.commit()
    return synthesis


def publish_synthesis(space: Space, synthesis: Synthesis, uow: UnitOfWork, who: Principal, *, correlationid: str):
    """Publish a draft: from now every jurisdiction reads it, with what each member's consent allows."""
    _staff_only(space)
    _lock(uow, synthesis)
    rules.check_publishable(synthesis.status)
    synthesis.status, synthesis.published_at, synthesis.published_by = rules.PUBLISHED, utcnow(), who.sub
    events.synthesis_published(uow.session, space.community, synthesis, correlationid=correlationid)
    uow.commit()
    return synthesis


def _consent_view(community_id: str, jurisdiction: str, row: AttributionConsent | None) -> dict:
    if row is None:
        return {
            "community_id": community_id,
            "jurisdiction": jurisdiction,
            "choice": rules.default_consent(tribe=not is_jurisdiction(jurisdiction)),
            "recorded": False,
            "recorded_by": None,
            "recorded_at": None,
            "updated_at": None,
        }
    return {
        "community_id": community_id,
        "jurisdiction": jurisdiction,
        "choice": row.choice,
        "recorded": True,
        "recorded_by": row.recorded_by,
        "recorded_at": row.recorded_at,
        "updated_at": row.recorded_at,
    }


def consent_of(space: Space, jurisdiction: str, uow: UnitOfWork) -> dict:
    """A member jurisdiction's recorded choice, or the default that applies without one."""
    if not repo.jurisdiction_was_member(uow.session, space.community.id, jurisdiction):
        raise NotFound("This jurisdiction is not a member of the community.")
    return _consent_view(space.community.id, jurisdiction, repo.consent(uow.session, space.community.id, jurisdiction))


def consent_rows(items) -> list[dict]:
    return [_consent_view(row.community_id, row.jurisdiction, row) for row in items]


def record_consent(space: Space, jurisdiction: str, data: dict, uow: UnitOfWork, who: Principal) -> dict:
    """A member jurisdiction's admin records how its contributions appear in published syntheses (who, when).

    The published syntheses of the community are touched too: what they show has changed, and a synced
    copy of them must hear of it.
    """
    if not repo.jurisdiction_was_member(uow.session, space.community.id, jurisdiction):
        raise NotFound("This jurisdiction is not a member of the community.")
    rules.check_consent_recorder(space.viewer, jurisdiction)
    row = repo.consent(uow.session, space.community.id, jurisdiction)
    if row is None:
        row = AttributionConsent(community_id=space.community.id, jurisdiction=jurisdiction)
        uow.session.add(row)
    row.choice, row.recorded_by, row.recorded_at = data["choice"], who.sub, utcnow()
    _flush(uow, "The consent was recorded at the same moment by another request; send it again.")
    for synthesis in uow.session.scalars(repo.published_syntheses_list(space.community.id)):
        synthesis.updated_at = utcnow()
    uow.commit()
    return _consent_view(space.community.id, jurisdiction, row)


def render_synthesis(session, synthesis: Synthesis) -> dict:
    """A synthesis as readers see it: its contributions as each member jurisdiction's consent allows."""
    products = repo.knowledge_products_by_id(session, synthesis.community_id, list(synthesis.knowledge_products))
    choices = {code: row.choice for code, row in repo.consents(session, synthesis.community_id).items()}
    contributions = []
    for product_id in synthesis.knowledge_products:
        product = products.get(product_id)
        if product is None:
            continue
        code = product.jurisdiction
        shown, named = rules.attribution(code, choices.get(code), tribe=bool(code) and not is_jurisdiction(code))
        if not shown:
            continue
        attribution = "initiative" if code is None else ("attributed" if named else "anonymised")
        contributions.append(
            {
                "source_kind": product.source_kind,
                "title": product.title,
                "excerpt": product.excerpt,
                "attribution": attribution,
                "jurisdiction": named,
            }
        )
    view = {
        name: getattr(synthesis, name)
        for name in (
            "id",
            "community_id",
            "title",
            "summary",
            "status",
            "knowledge_products",
            "created_by",
            "published_by",
            "published_at",
            "created_at",
            "updated_at",
            "change",
        )
    }
    view["community_title"] = repo.community_title(session, synthesis.community_id)
    view["contributions"] = contributions
    return view
