"""The facilitators' directory: how forms offer facilitators by name and certificates name them."""

from __future__ import annotations

from services.scheduling.models import FacilitatorName
from services.scheduling.repository import facilitators as directory_repo
from shared.auth import Principal, subject_in_path
from shared.db import DbSession, UnitOfWork
from shared.errors import NotFound
from shared.http.pagination import paginate


def directory_page(db: DbSession, who: Principal, args: dict, config) -> dict:
    """A page of the caller's jurisdiction's facilitators, by name."""
    return paginate(
        db,
        directory_repo.directory(who, args),
        order_by=list(directory_repo.DIRECTORY_ORDER),
        args=args,
        config=config,
    )


def enter_myself(uow: UnitOfWork, who: Principal) -> FacilitatorName:
    """A facilitator enters (or renames) themselves with the name their sign-in gives."""
    directory_repo.remember_facilitator_name(uow.session, who.tenant, who.sub, who.name_to_enter())
    entry = directory_repo.entry(uow.session, who.tenant, who.sub)
    uow.commit()
    return entry


def enter_facilitator(sub: str, data: dict, uow: UnitOfWork, who: Principal) -> FacilitatorName:
    """A jurisdiction admin or state system enters (or renames) a facilitator of its jurisdiction, e.g.
    one who has not signed in yet, or offers a withdrawn one again. Their own next sign-in renames them as
    their identity provider says (without offering them again if withdrawn)."""
    sub = subject_in_path(sub)
    directory_repo.remember_facilitator_name(uow.session, who.tenant, sub, data["name"], reinstate=True)
    entry = directory_repo.entry(uow.session, who.tenant, sub)
    uow.commit()
    return entry


def withdraw_facilitator(sub: str, uow: UnitOfWork, who: Principal) -> FacilitatorName:
    """A jurisdiction admin or state system withdraws a facilitator: the forms stop offering them, certificates
    still name them, and entering them again offers them again."""
    entry = directory_repo.withdraw(uow.session, who.tenant, subject_in_path(sub))
    if entry is None:
        raise NotFound("Your jurisdiction's directory has no facilitator with this subject.")
    uow.commit()
    return entry
