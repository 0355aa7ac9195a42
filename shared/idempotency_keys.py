"""Idempotency keys answered in a batch: claimed and answered in the transaction that writes their effects.

``shared.http.idempotency`` claims a request's key in the request's own transaction before its view
runs. A request written in someone else's transaction (a group commit, ``shared.group_commit``) cannot:
its key must be claimed and its answer stored in the batch's transaction, beside its effect, so that
there is still never an effect without its stored answer nor a stored claim without its effect. The
HTTP layer hands the use case a ``PendingKey``; the batch's writer claims the keys of its batch
(``claim_keys``), writes what it writes, stores each answer (``store_answers``) and commits. A key it
could not claim (a retry of it is in flight or was answered meanwhile) leaves its request out of the
batch; ``ClaimKeyFirst`` then sends the request back to the usual path, which replays the stored
answer or refuses a reused key. No Flask here: the answer is built by the callable the view gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

Answer = tuple[int, str, dict]  # status code, body, the headers a replay gives back


class ClaimKeyFirst(Exception):  # noqa: N818 - an instruction to the caller, not an error
    """A use case given a ``PendingKey`` did not answer it in a batch: claim the key the usual way, then retry.

    Raised before the use case writes anything.
    """


@dataclass(eq=False)
class PendingKey:
    """A request's Idempotency-Key, not claimed yet, and how to build the request's answer from its outcome."""

    table: Any  # the service's idempotency key model (``PlatformTables.idempotency_key``)
    tenant: str
    principal: str
    key: str
    endpoint: str
    request_hash: str
    created_at: datetime
    answer: Callable[[Any], Answer]
    stored: Answer | None = field(default=None)  # set once the answer is stored (not yet committed)

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.tenant, self.principal, self.key)


def claim_keys(session: Session, keys: Sequence[PendingKey]) -> list[bool]:
    """PostgreSQL: claim each key in the session's transaction; False where another request holds it.

    One statement for the lot. A key claimed by a transaction still in flight makes the insert wait
    for it (as the usual path's claim does), then count as held if that transaction committed.
    """
    if not keys:
        return []
    table = keys[0].table.__table__
    wanted = {}
    for pending in keys:
        wanted.setdefault(pending.ident, pending)  # a key twice in one batch: claimed once, for the first
    rows = session.execute(
        postgresql.insert(table)
        .values(
            [
                {
                    "tenant": k.tenant,
                    "principal": k.principal,
                    "key": k.key,
                    "endpoint": k.endpoint,
                    "request_hash": k.request_hash,
                    "created_at": k.created_at,
                }
                for k in wanted.values()
            ]
        )
        .on_conflict_do_nothing()
        .returning(table.c.tenant, table.c.principal, table.c.key)
    ).all()
    claimed = {tuple(row) for row in rows}
    return [pending.ident in claimed and wanted[pending.ident] is pending for pending in keys]


def store_answers(session: Session, answered: Sequence[tuple[PendingKey, Any]]) -> None:
    """Store each claimed key's answer, built from its request's outcome, in the session's transaction."""
    if not answered:
        return
    table = answered[0][0].table.__table__
    params = []
    for pending, outcome in answered:
        status, body, headers = pending.answer(outcome)
        params.append(
            {"b_tenant": pending.tenant, "b_principal": pending.principal, "b_key": pending.key}
            | {"b_status": status, "b_body": body, "b_headers": headers}
        )
    session.connection().execute(
        update(table)
        .where(
            and_(
                table.c.tenant == bindparam("b_tenant"),
                table.c.principal == bindparam("b_principal"),
                table.c.key == bindparam("b_key"),
            )
        )
        .values(
            status_code=bindparam("b_status", type_=table.c.status_code.type),
            response_body=bindparam("b_body", type_=table.c.response_body.type),
            response_headers=bindparam("b_headers", type_=table.c.response_headers.type),
        ),
        params,
    )
    for (pending, _outcome), values in zip(answered, params, strict=True):
        pending.stored = (values["b_status"], values["b_body"], values["b_headers"])
