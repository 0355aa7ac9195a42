"""Reports for states and the nation, the reach cascade, and consent to national roll-ups."""

from __future__ import annotations

from datetime import date

from services.coaching import repository as repo
from services.coaching.domain import commitments as rules
from services.coaching.domain import reports as figures
from services.coaching.models import Activity, ConsentRecord, JurisdictionSettings
from services.coaching.use_cases import Listing
from shared.auth import Principal
from shared.db import UnitOfWork, utcnow

WITHHELD = "withheld"


# What state systems receive of a logged activity: never its notes, strengths or next steps.
ACTIVITY_COLUMNS = (
    "id",
    "trainer",
    "author",
    "kind",
    "occurred_on",
    "duration_minutes",
    "mode",
    "practices",
    "follow_up_on",
    "updated_at",
    "change",
)


def jurisdiction_summary(session, tenant: str, today: date) -> dict:
    """A jurisdiction's figures as of ``today``: activities and hours by kind and month, commitments, fidelity."""
    rows = repo.report_inputs(session, [tenant])[tenant]
    return {
        "jurisdiction": tenant,
        "today": today,
        "status": "included",
        **figures.summary(rows["activities"], rows["commitments"], rows["scores"], today),
    }


def jurisdiction_summary_csv(session, tenant: str, today: date) -> str:
    """The jurisdiction's figures as CSV rows of (jurisdiction, measure, key, value)."""
    summary = jurisdiction_summary(session, tenant, today)
    return figures.to_csv(figures.SUMMARY_COLUMNS, figures.summary_rows(tenant, summary))


def activity_rows(tenant: str) -> Listing:
    """The jurisdiction's logged activities for state systems, by last change, without notes (JSON or CSV)."""
    return Listing(
        repo.activity_rows_statement(tenant),
        order_by=(Activity.updated_at, Activity.id),
        updated_column=Activity.updated_at,
        change_column=Activity.change,
        as_csv=lambda activities: figures.to_csv(
            ACTIVITY_COLUMNS, [{c: getattr(a, c) for c in ACTIVITY_COLUMNS} for a in activities]
        ),
    )


def national_summary(session, today: date) -> dict:
    """Every jurisdiction with records: its figures if its admin consents to national roll-ups, else withheld."""
    consenting = repo.consenting(session)
    tenants = repo.tenants_with_records(session)
    inputs = repo.report_inputs(session, sorted(consenting & set(tenants)))
    items = []
    for tenant in tenants:
        if tenant not in consenting:
            items.append({"jurisdiction": tenant, "status": WITHHELD})
            continue
        rows = inputs[tenant]
        items.append(
            {
                "jurisdiction": tenant,
                "status": "included",
                **figures.summary(rows["activities"], rows["commitments"], rows["scores"], today),
            }
        )
    return {"today": today, "items": items}


def national_summary_csv(session, today: date) -> str:
    """The national figures as CSV: a jurisdiction without consent is one ``withheld`` row, never its figures."""
    rows = []
    for item in national_summary(session, today)["items"]:
        if item["status"] == WITHHELD:
            rows.append({"jurisdiction": item["jurisdiction"], "measure": "withheld", "key": "", "value": ""})
        else:
            rows += figures.summary_rows(item["jurisdiction"], item)
    return figures.to_csv(figures.SUMMARY_COLUMNS, rows)


# The reach is counted in a transaction of its own, not in the request's reads (which run without one on
# PostgreSQL): the counting query turns PostgreSQL's JIT off for its transaction (repository.reach).


def jurisdiction_reach(db, tenant: str) -> dict:
    """A jurisdiction's cascade per training-for-trainers cohort, with its totals."""
    with db.session() as session:
        return _jurisdiction_reach(session, tenant)


def _jurisdiction_reach(session, tenant: str) -> dict:
    cohorts = repo.reach(session, [tenant])[tenant]
    return {"jurisdiction": tenant, "status": "included", "cohorts": cohorts, **_totals(cohorts)}


def national_reach(db) -> dict:
    """The cascade per jurisdiction, consenting ones only; the others are named as withheld, without figures."""
    with db.session() as session:
        return _national_reach(session)


def _national_reach(session) -> dict:
    consenting = repo.consenting(session)
    tenants = repo.tenants_with_records(session)
    # Counted for every jurisdiction at once (one pass over the tables, not a filter per row); only the
    # consenting ones' figures are taken below, so a withheld jurisdiction's never reach the answer.
    per_jurisdiction = repo.reach(session, None)
    items = []
    for tenant in tenants:
        if tenant not in consenting:
            items.append({"jurisdiction": tenant, "status": WITHHELD})
            continue
        cohorts = per_jurisdiction.get(tenant, [])
        items.append({"jurisdiction": tenant, "status": "included", "cohorts": cohorts, **_totals(cohorts)})
    included = [i for i in items if i["status"] == "included"]
    return {
        "items": items,
        "graduates": sum(i["graduates"] for i in included),
        "trainings_delivered": sum(i["trainings_delivered"] for i in included),
        "practitioners_reached": sum(i["practitioners_reached"] for i in included),
    }


def _totals(cohorts: list[dict]) -> dict:
    return {
        "graduates": sum(c["graduates"] for c in cohorts),
        "trainings_delivered": sum(c["trainings_delivered"] for c in cohorts),
        "practitioners_reached": sum(c["practitioners_reached"] for c in cohorts),
    }


def set_consent(granted: bool, uow: UnitOfWork, who: Principal) -> dict:
    """A jurisdiction admin grants or withdraws consent to national roll-ups; each change is recorded."""
    session = uow.session
    settings = repo.settings_of(session, who.tenant, for_update=True)
    if settings is None:
        settings = JurisdictionSettings(tenant=who.tenant, default_time_frame_months=rules.DEFAULT_TIME_FRAME_MONTHS)
        session.add(settings)
    now = utcnow()
    settings.national_consent = granted
    settings.consent_changed_by, settings.consent_changed_at = who.sub, now
    session.add(ConsentRecord(tenant=who.tenant, granted=granted, by=who.sub, at=now))
    uow.commit()
    return consent_of(session, who.tenant)


def consent_of(session, tenant: str) -> dict:
    settings = repo.settings_of(session, tenant)
    return {
        "jurisdiction": tenant,
        "national_roll_ups": bool(settings and settings.national_consent),
        "changed_by": settings.consent_changed_by if settings else None,
        "changed_at": settings.consent_changed_at if settings else None,
        "history": [{"granted": r.granted, "by": r.by, "at": r.at} for r in repo.consent_history(session, tenant)],
    }
