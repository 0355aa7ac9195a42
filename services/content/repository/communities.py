"""Queries of learning communities, always through the rule of who sees a community's space.

Every row of a community is reached through ``get_space`` (one community the caller sees, else 404)
and then looked up by the community's id as well as its own, so an id of another community is a 404
too. Lists are statements for ``shared.http.pagination.paginate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_, select, true
from sqlalchemy.orm import Session

from services.content.domain import communities as rules
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
from shared.auth import JURISDICTION_ADMIN, Principal
from shared.db import locking
from shared.errors import NotFound


def viewer(who: Principal) -> rules.Viewer:
    return rules.Viewer(
        sub=who.sub, tenant=who.tenant, staff=who.is_national, jurisdiction_admin=who.has(JURISDICTION_ADMIN)
    )


@dataclass
class Space:
    """A community the caller sees, and the caller's place in it."""

    community: Community
    viewer: rules.Viewer
    member: CommunityMember | None  # the caller's current membership, if any

    @property
    def is_member(self) -> bool:
        return self.member is not None


def _active(column_community=Community.id):
    return (CommunityMember.community_id == column_community) & (CommunityMember.status == rules.JOINED)


def communities_visible(who: Principal):
    """``rules.sees_space`` as SQL, for lists: staff all; else communities with the caller as a current
    member, or (for a jurisdiction admin) with a current team member of the caller's jurisdiction."""
    if who.is_national:
        return true()
    clause = exists().where(_active(), CommunityMember.sub == who.sub)
    if who.has(JURISDICTION_ADMIN):
        clause = or_(clause, exists().where(_active(), CommunityMember.jurisdiction == who.tenant))
    return clause


def membership(session: Session, community_id: str, sub: str) -> CommunityMember | None:
    """``sub``'s current membership of the community, if any."""
    return session.scalars(
        select(CommunityMember).where(
            CommunityMember.community_id == community_id,
            CommunityMember.sub == sub,
            CommunityMember.status == rules.JOINED,
        )
    ).first()


def member_row(session: Session, community_id: str, sub: str) -> CommunityMember | None:
    """``sub``'s membership row, current or past."""
    return session.scalars(
        select(CommunityMember).where(CommunityMember.community_id == community_id, CommunityMember.sub == sub)
    ).first()


def jurisdiction_is_member(session: Session, community_id: str, jurisdiction: str) -> bool:
    return session.scalar(select(exists().where(_active(community_id), CommunityMember.jurisdiction == jurisdiction)))


def jurisdiction_was_member(session: Session, community_id: str, jurisdiction: str) -> bool:
    """The jurisdiction has had a team member in the community (its past contributions remain)."""
    return session.scalar(
        select(
            exists().where(CommunityMember.community_id == community_id, CommunityMember.jurisdiction == jurisdiction)
        )
    )


def get_space(session: Session, community_id: str, who: Principal, *, for_update: bool = False) -> Space:
    """The community with this id if the caller sees it; 404 otherwise, whether it exists or not."""
    stmt = select(Community).where(Community.id == community_id)
    if for_update:
        stmt = locking(session, stmt)
    community = session.scalars(stmt).first()
    if community is not None:
        seen_by = viewer(who)
        member = membership(session, community.id, who.sub)
        in_jurisdiction = seen_by.jurisdiction_admin and jurisdiction_is_member(session, community.id, who.tenant)
        if rules.sees_space(seen_by, is_member=member is not None, jurisdiction_is_member=in_jurisdiction):
            return Space(community=community, viewer=seen_by, member=member)
    raise NotFound("No community with this id.")


def active_member_subs(session: Session, community_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CommunityMember.sub).where(
                CommunityMember.community_id == community_id, CommunityMember.status == rules.JOINED
            )
        )
    )


def _in_community(model, community_id: str, row_id: str, what: str, session: Session):
    row = session.scalars(select(model).where(model.community_id == community_id, model.id == row_id)).first()
    if row is None:
        raise NotFound(f"No {what} with this id in this community.")
    return row


def get_thread(session: Session, space: Space, thread_id: str) -> CommunityThread:
    return _in_community(CommunityThread, space.community.id, thread_id, "thread", session)


def get_reply(session: Session, space: Space, reply_id: str) -> ThreadReply:
    return _in_community(ThreadReply, space.community.id, reply_id, "reply", session)


def get_document(session: Session, space: Space, document_id: str) -> CommunityDocument:
    return _in_community(CommunityDocument, space.community.id, document_id, "document", session)


def get_work_item(session: Session, space: Space, item_id: str) -> WorkItem:
    return _in_community(WorkItem, space.community.id, item_id, "work item", session)


def get_knowledge_product(session: Session, space: Space, product_id: str) -> KnowledgeProduct:
    return _in_community(KnowledgeProduct, space.community.id, product_id, "knowledge product", session)


def get_synthesis(session: Session, space: Space, synthesis_id: str) -> Synthesis:
    return _in_community(Synthesis, space.community.id, synthesis_id, "synthesis", session)


def follow_choices(session: Session, thread_id: str) -> dict[str, ThreadFollow]:
    return {row.sub: row for row in session.scalars(select(ThreadFollow).where(ThreadFollow.thread_id == thread_id))}


def consents(session: Session, community_id: str) -> dict[str, AttributionConsent]:
    rows = session.scalars(select(AttributionConsent).where(AttributionConsent.community_id == community_id))
    return {row.jurisdiction: row for row in rows}


def consent(session: Session, community_id: str, jurisdiction: str) -> AttributionConsent | None:
    return session.scalars(
        select(AttributionConsent).where(
            AttributionConsent.community_id == community_id, AttributionConsent.jurisdiction == jurisdiction
        )
    ).first()


def knowledge_products_by_id(session: Session, community_id: str, ids: list[str]) -> dict[str, KnowledgeProduct]:
    if not ids:
        return {}
    rows = session.scalars(
        select(KnowledgeProduct).where(KnowledgeProduct.community_id == community_id, KnowledgeProduct.id.in_(ids))
    )
    return {row.id: row for row in rows}


def get_published_synthesis(session: Session, synthesis_id: str) -> Synthesis:
    row = session.scalars(
        select(Synthesis).where(Synthesis.id == synthesis_id, Synthesis.status == rules.PUBLISHED)
    ).first()
    if row is None:
        raise NotFound("No published synthesis with this id.")
    return row


def community_title(session: Session, community_id: str) -> str:
    return session.scalar(select(Community.title).where(Community.id == community_id))


# --- list statements (paged by the views) -----------------------------------------------------------


def communities_list(who: Principal, status: str | None = None):
    stmt = select(Community).where(communities_visible(who))
    if status:
        stmt = stmt.where(Community.status == status)
    return stmt


def members_list(community_id: str, status: str | None = None):
    stmt = select(CommunityMember).where(CommunityMember.community_id == community_id)
    if status:
        stmt = stmt.where(CommunityMember.status == status)
    return stmt


def current_staff(session: Session, community_id: str) -> set[str]:
    """The subs of the community's staff members who have joined and not left."""
    stmt = members_list(community_id, rules.JOINED).where(CommunityMember.kind == rules.STAFF)
    return {member.sub for member in session.scalars(stmt)}


def threads_list(community_id: str):
    return select(CommunityThread).where(CommunityThread.community_id == community_id)


def replies_list(community_id: str, thread_id: str):
    return select(ThreadReply).where(ThreadReply.community_id == community_id, ThreadReply.thread_id == thread_id)


def documents_list(community_id: str):
    return select(CommunityDocument).where(CommunityDocument.community_id == community_id)


def work_items_list(community_id: str, kind: str | None = None, status: str | None = None):
    stmt = select(WorkItem).where(WorkItem.community_id == community_id)
    if kind:
        stmt = stmt.where(WorkItem.kind == kind)
    if status:
        stmt = stmt.where(WorkItem.status == status)
    return stmt


def knowledge_products_list(community_id: str):
    return select(KnowledgeProduct).where(KnowledgeProduct.community_id == community_id)


def syntheses_list(community_id: str):
    return select(Synthesis).where(Synthesis.community_id == community_id)


def published_syntheses_list(community_id: str | None = None):
    stmt = select(Synthesis).where(Synthesis.status == rules.PUBLISHED)
    if community_id:
        stmt = stmt.where(Synthesis.community_id == community_id)
    return stmt


def consents_list(community_id: str):
    return select(AttributionConsent).where(AttributionConsent.community_id == community_id)
