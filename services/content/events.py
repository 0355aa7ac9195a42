"""The events content publishes, staged in the outbox with the change they describe."""

from __future__ import annotations

from services.content import SERVICE
from services.content.models import (
    Adaptation,
    AdaptationReview,
    Community,
    CommunityMember,
    CommunityThread,
    Material,
    MaterialVersion,
    Synthesis,
    ThreadReply,
    platform,
)
from shared.envelope import make_event
from shared.messaging.outbox import add_event

SOURCE = f"/services/{SERVICE}"
NATIONAL_TENANT = "national"  # envelope tenant of national curriculum events, which every tenant may read


def _emit(session, type_: str, *, subject: str, tenant: str | None, data: dict, correlationid: str) -> None:
    event = make_event(
        type_, source=SOURCE, subject=subject, tenant=tenant or NATIONAL_TENANT, data=data, correlationid=correlationid
    )
    add_event(session, platform, event)


def material_published(session, material: Material, version: MaterialVersion, *, by: str, correlationid: str) -> None:
    _emit(
        session,
        "content.material.published",
        subject=material.id,
        tenant=material.tenant,
        correlationid=correlationid,
        data={
            "material_id": material.id,
            "module_id": material.module_id,
            "series_id": material.module.series_id,
            "series_title": material.module.series.title,
            "module_position": material.module.position,
            "kind": material.kind,
            "title": material.title,
            "version": version.number,
            "media_type": version.media_type,
            "size": version.size,
            "sha256": version.sha256,
            "url": version.url,
            "national": material.tenant is None,
            "published_by": by,
        },
    )


def adaptation_submitted(session, adaptation: Adaptation, *, correlationid: str) -> None:
    _emit(
        session,
        "content.adaptation.submitted",
        subject=adaptation.id,
        tenant=adaptation.tenant,
        correlationid=correlationid,
        data={
            "adaptation_id": adaptation.id,
            "module_id": adaptation.module_id,
            "module_position": adaptation.module.position,
            "module_title": adaptation.module.title,
            "title": adaptation.title,
            "facilitator": adaptation.facilitator,
            "facilitator_name": adaptation.facilitator_name,
            "revision": adaptation.revision,
            "components": {c["component"]: c["decision"] for c in adaptation.components},
        },
    )


def adaptation_reviewed(session, adaptation: Adaptation, review: AdaptationReview, *, correlationid: str) -> None:
    _emit(
        session,
        "content.adaptation.reviewed",
        subject=adaptation.id,
        tenant=adaptation.tenant,
        correlationid=correlationid,
        data={
            "adaptation_id": adaptation.id,
            "module_id": adaptation.module_id,
            "facilitator": adaptation.facilitator,
            "reviewer": review.reviewer,
            "reviewer_name": review.reviewer_name,
            "revision": review.revision,
            "decision": review.decision,
            "comments": review.comments,
        },
    )


# --- learning communities: national events (tenant ``national``), with what consumers need to act ------


def _community_data(community: Community) -> dict:
    return {
        "community_id": community.id,
        "title": community.title,
        "focus_area": community.focus_area,
        "status": community.status,
        "starts_on": community.starts_on.isoformat(),
        "planned_months": community.planned_months,
        "facilitators": list(community.facilitators),
        "time_zone": community.time_zone,
    }


def community_convened(session, community: Community, *, correlationid: str) -> None:
    _emit(
        session,
        "content.community.convened",
        subject=community.id,
        tenant=None,
        correlationid=correlationid,
        data=_community_data(community),
    )


def community_updated(session, community: Community, *, correlationid: str) -> None:
    _emit(
        session,
        "content.community.updated",
        subject=community.id,
        tenant=None,
        correlationid=correlationid,
        data=_community_data(community),
    )


def _member_data(community: Community, member: CommunityMember) -> dict:
    return {
        "community_id": community.id,
        "community_title": community.title,
        "member": member.sub,
        "kind": member.kind,
        "jurisdiction": member.jurisdiction,
        "name": member.name,
        "email": member.email,
        "time_zone": member.time_zone,
        "language": member.language,
    }


def member_joined(session, community: Community, member: CommunityMember, *, correlationid: str) -> None:
    _emit(
        session,
        "content.community.member_joined",
        subject=community.id,
        tenant=None,
        correlationid=correlationid,
        data=_member_data(community, member),
    )


def member_left(session, community: Community, member: CommunityMember, *, correlationid: str) -> None:
    _emit(
        session,
        "content.community.member_left",
        subject=community.id,
        tenant=None,
        correlationid=correlationid,
        data=_member_data(community, member),
    )


def thread_replied(
    session,
    community: Community,
    thread: CommunityThread,
    reply: ThreadReply,
    *,
    excerpt: str,
    followers: list[str],
    correlationid: str,
) -> None:
    _emit(
        session,
        "content.thread.replied",
        subject=thread.id,
        tenant=None,
        correlationid=correlationid,
        data={
            "community_id": community.id,
            "community_title": community.title,
            "thread_id": thread.id,
            "thread_title": thread.title,
            "reply_id": reply.id,
            "author": reply.author,
            "author_name": reply.author_name,
            "excerpt": excerpt,
            "followers": followers,
            "replied_at": reply.created_at.isoformat(),
        },
    )


def synthesis_published(session, community: Community, synthesis: Synthesis, *, correlationid: str) -> None:
    _emit(
        session,
        "content.synthesis.published",
        subject=synthesis.id,
        tenant=None,
        correlationid=correlationid,
        data={
            "community_id": community.id,
            "community_title": community.title,
            "synthesis_id": synthesis.id,
            "title": synthesis.title,
            "published_at": synthesis.published_at.isoformat(),
        },
    )
