"""Specialists by name: a trainer reads who their specialist is, and admins choose plans' specialists by name."""

from __future__ import annotations

from services.coaching import repository as repo
from services.coaching.models import SpecialistName
from services.coaching.use_cases.plans import announce_default_specialist, default_specialist
from shared.auth import NATIONAL_ADMIN, Principal, subject_in_path
from shared.db import DbSession, UnitOfWork
from shared.errors import Forbidden, NotFound
from shared.http.pagination import paginate


def enter_myself(uow: UnitOfWork, who: Principal) -> SpecialistName:
    """A specialist enters (or renames) themselves with the name their sign-in gives."""
    repo.remember_specialist_name(uow.session, who.tenant, who.sub, who.name_to_enter())
    entry = repo.specialist_entry(uow.session, who.tenant, who.sub)
    uow.commit()
    return entry


def specialists_page(db: DbSession, who: Principal, args: dict, config) -> dict:
    """A page of the caller's jurisdiction's specialists by name; those named by subject, for anyone who reads
    plans (a trainer reads their own specialist's name), the whole list for coaching's staff only."""
    if not args.get("sub") and not who.has(NATIONAL_ADMIN, *repo.STAFF):
        raise Forbidden("Name the specialists by subject (`sub`): the whole list is for coaching's staff.")
    return paginate(db, repo.specialists(who, args), order_by=list(repo.SPECIALISTS_ORDER), args=args, config=config)


def enter_specialist(sub: str, data: dict, uow: UnitOfWork, who: Principal) -> SpecialistName:
    """A jurisdiction admin or state system enters (or renames) a specialist of its jurisdiction, e.g. one who
    has not signed in yet, or offers a withdrawn one again. Their own next sign-in renames them as their
    identity provider says (without offering them again if withdrawn)."""
    sub = subject_in_path(sub)
    settings = repo.settings_of(uow.session, who.tenant)
    before = default_specialist(uow.session, who.tenant, settings)[0]
    repo.remember_specialist_name(uow.session, who.tenant, sub, data["name"], reinstate=True)
    entry = repo.specialist_entry(uow.session, who.tenant, sub)
    announce_default_specialist(uow.session, who.tenant, before, settings)  # the default, offered again
    uow.commit()
    return entry


def withdraw_specialist(sub: str, uow: UnitOfWork, who: Principal) -> SpecialistName:
    """A jurisdiction admin or state system withdraws a specialist who left: no longer offered as a plan's
    specialist; the plans that name them still do (reassign them), and entering them again offers them again."""
    settings = repo.settings_of(uow.session, who.tenant)
    before = default_specialist(uow.session, who.tenant, settings)[0]
    entry = repo.withdraw_specialist(uow.session, who.tenant, subject_in_path(sub))
    if entry is None:
        raise NotFound("Coaching knows no specialist of your jurisdiction with this subject.")
    announce_default_specialist(uow.session, who.tenant, before, settings)  # the default withdrawn: nobody
    uow.commit()
    return entry
