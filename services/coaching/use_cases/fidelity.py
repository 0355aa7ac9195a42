"""Fidelity observations: a specialist scores a trainer's delivery of a session; the trainer's trend."""

from __future__ import annotations

from services.coaching import repository as repo
from services.coaching.domain import fidelity as rules
from services.coaching.models import FidelityObservation
from services.coaching.use_cases import Listing
from shared.auth import Principal
from shared.db import UnitOfWork


def observe(data: dict, uow: UnitOfWork, who: Principal) -> FidelityObservation:
    checklist = [{"component": i["component"], "decision": i["decision"]} for i in data["checklist"]]
    observation = FidelityObservation(
        tenant=who.tenant,
        trainer=data["trainer"],
        observer=who.sub,
        cohort_id=data.get("cohort_id"),
        session_position=data["session_position"],
        practice=data.get("practice"),
        observed_on=data["observed_on"],
        checklist=checklist,
        score=rules.score(checklist),
        comments=data.get("comments", ""),
    )
    uow.session.add(observation)
    uow.commit()
    return observation


def trend_of(session, who: Principal, trainer: str) -> dict:
    scores = sorted(repo.scores_of(session, who, trainer))
    return {
        "trainer": trainer,
        "observations": [{"observed_on": d, "score": s} for d, s in scores],
        "average": round(sum(s for _, s in scores) / len(scores), 4) if scores else None,
        "trend": rules.trend(scores),
    }


def list_observations(who: Principal, args: dict) -> Listing:
    """The jurisdiction's observations (a trainer: their own), by last change."""
    return Listing(
        repo.observations_statement(who, trainer=args.get("trainer")),
        order_by=(FidelityObservation.updated_at, FidelityObservation.id),
        updated_column=FidelityObservation.updated_at,
        change_column=FidelityObservation.change,
    )
