"""The events content publishes, staged in the outbox with the change they describe."""

from __future__ import annotations

from services.content import SERVICE
from services.content.models import Adaptation, AdaptationReview, Material, MaterialVersion, platform
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
            "title": adaptation.title,
            "facilitator": adaptation.facilitator,
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
            "revision": review.revision,
            "decision": review.decision,
            "comments": review.comments,
        },
    )
