"""Content's use cases for adaptations: write, submit for fidelity review, review; each commits once."""

from __future__ import annotations

from services.content import events
from services.content import repository as repo
from services.content.domain import adaptations as rules
from services.content.models import Adaptation, AdaptationReview, Module
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow
from shared.errors import InvalidInput, NotFound


def _components(decisions: list[dict]) -> list[dict]:
    """The stored shape of component decisions (a new list, so the JSON column sees the change)."""
    return [
        {"component": d["component"], "decision": d["decision"], "rationale": d.get("rationale", "")} for d in decisions
    ]


def create_adaptation(data: dict, uow: UnitOfWork, who: Principal) -> Adaptation:
    """Start a draft adaptation of a module the caller can see; it belongs to the caller and their tenant."""
    try:
        module: Module = repo.get_module(uow.session, data["module_id"], who)
    except NotFound:
        raise InvalidInput(
            "The module does not exist or is not yours to adapt.", errors={"module_id": ["No module with this id."]}
        ) from None
    components = _components(data.get("components", []))
    rules.check_components(components, module.core_components)
    adaptation = Adaptation(
        tenant=who.tenant,
        facilitator=who.sub,
        facilitator_name=who.display_name or None,
        module_id=module.id,
        title=data["title"],
        audience=data.get("audience", ""),
        components=components,
        status=rules.DRAFT,
        revision=0,
    )
    uow.session.add(adaptation)
    uow.commit()
    return adaptation


def update_adaptation(adaptation: Adaptation, data: dict, uow: UnitOfWork, who: Principal) -> Adaptation:
    """Change a draft, or an adaptation sent back with changes requested, as its facilitator."""
    rules.check_owner(who.sub, adaptation.facilitator)
    status = rules.transition(adaptation.status, rules.EDIT)
    if "components" in data:
        components = _components(data["components"])
        rules.check_components(components, adaptation.module.core_components)
        adaptation.components = components
    for name in ("title", "audience"):
        if name in data:
            setattr(adaptation, name, data[name])
    adaptation.facilitator_name = who.display_name or adaptation.facilitator_name
    adaptation.status = status
    uow.commit()
    return adaptation


def submit_adaptation(
    adaptation: Adaptation, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> Adaptation:
    """Send the adaptation for fidelity review as a new revision, and tell the specialists."""
    rules.check_owner(who.sub, adaptation.facilitator)
    status, revision = rules.submit(adaptation.status, adaptation.revision)
    # Checked against the module as it is now: curators may have changed its core components.
    rules.check_submittable(adaptation.components, adaptation.module.core_components)
    adaptation.status = status
    adaptation.revision = revision
    adaptation.submitted_at = utcnow()
    adaptation.facilitator_name = who.display_name or adaptation.facilitator_name
    events.adaptation_submitted(uow.session, adaptation, correlationid=correlationid)
    uow.commit()
    return adaptation


def review_adaptation(
    adaptation: Adaptation, data: dict, uow: UnitOfWork, who: Principal, *, correlationid: str = ""
) -> AdaptationReview:
    """Record a specialist's fidelity review of the submitted revision and apply its decision."""
    if adaptation.tenant != who.tenant:
        # Specialists review their own jurisdiction only; a national caller must not learn of others'.
        raise NotFound("No adaptation with this id.")
    rules.check_reviewer(who.sub, adaptation.facilitator)
    status = rules.transition(adaptation.status, data["decision"])
    checklist = rules.check_review(data["decision"], data["checklist"], data.get("comments", ""))
    review = AdaptationReview(
        adaptation=adaptation,
        tenant=adaptation.tenant,
        revision=adaptation.revision,
        reviewer=who.sub,
        reviewer_name=who.display_name or None,
        decision=data["decision"],
        checklist=checklist,
        comments=data.get("comments", ""),
        created_at=utcnow(),
    )
    uow.session.add(review)
    adaptation.status = status
    events.adaptation_reviewed(uow.session, adaptation, review, correlationid=correlationid)
    uow.commit()
    return review
