"""Cursor (keyset) pagination with a capped page size, an ``updated_since`` filter and ``changed_after`` sync."""

from __future__ import annotations

import base64
import functools
import json
from datetime import datetime
from urllib.parse import urlencode

from flask import current_app, request
from marshmallow import Schema, fields, validate
from sqlalchemy import bindparam, literal, select, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from shared.changes import horizon, settled
from shared.http.problems import Problem


class CursorArgs(Schema):
    """Query arguments of every list endpoint: a page's size and where it starts."""

    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Page size; capped by the server (PAGE_SIZE_MAX)."},
    )
    cursor = fields.String(load_default=None, metadata={"description": "`next_cursor` of the previous page."})


class PageArgs(CursorArgs):
    """Query arguments of the lists kept in order of change: ``CursorArgs``, and filters by update time and
    by change marker (what a system keeping a copy syncs with)."""

    updated_since = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "Only items changed at or after this instant (ISO 8601 with offset). For people; "
            "a system that keeps a copy syncs with changed_after."
        },
    )
    changed_after = fields.Integer(
        load_default=None,
        strict=False,
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={
            "description": "Incremental sync: only items whose change marker is greater than this one (the "
            "`last_change` of your previous sync, 0 the first time), in the order of their "
            "markers. Nothing committed is ever skipped (docs/api.md, Incremental sync)."
        },
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The response schema of a page of ``item_schema``."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, metadata={"description": "Absent on the last page."}),
            "last_change": fields.Integer(
                allow_none=True,
                metadata={
                    "description": "With changed_after: the change marker up to which you now hold every change; "
                    "pass it as changed_after next time (after the walk's last page)."
                },
            ),
        },
    )


def _encode(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: list) -> list:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError
        values = []
        for value, column in zip(raw, columns, strict=True):
            if column.type.python_type is datetime:
                value = datetime.fromisoformat(value)
            elif not isinstance(value, column.type.python_type):
                raise ValueError
            values.append(value)
        return values
    except (ValueError, TypeError, NotImplementedError):
        raise Problem(
            422,
            "The cursor is not one this server issued.",
            title="Validation failed",
            errors={"cursor": ["Invalid cursor."]},
        ) from None


def _after(columns: list, values: list):
    """Rows strictly after ``values`` in the ascending order of ``columns``.

    A row-value comparison (PostgreSQL, SQLite 3.15+): an index on the columns (after any columns
    held equal) starts the page's scan at the cursor, so a deep page costs what the first one does.
    """
    # Each value bound with its column's type: a marker bound as an INTEGER beside a BIGINT column
    # makes a cross-type row comparison, which PostgreSQL cannot use to start the index scan when
    # another bound on the same column (``change > :after``) is present; it then reads every row of
    # the run of equal markers a bulk load or a migration leaves, on every page of it.
    bound = [
        value if isinstance(value, BindParameter) else literal(value, type_=column.type)
        for column, value in zip(columns, values, strict=True)
    ]
    return tuple_(*columns) > tuple_(*bound)


def paginate(
    session: Session,
    stmt,
    *,
    order_by: list,
    args: dict,
    config,
    updated_column=None,
    change_column=None,
    rows: bool = False,
    params: dict | None = None,
    branches: list | None = None,
) -> dict:
    """Run ``stmt`` one page at a time, ordered by ``order_by`` (ending in a unique column).

    ``stmt`` selects one entity, or columns that include every ``order_by`` column. ``rows=True``
    says it selects columns only (a page of keys and versions): it then runs as a plain statement,
    without the ORM's per-statement work.

    ``params``: ``stmt`` is built once and reused, its values given as bound parameters (``params``).
    The page's own conditions are then added as bound parameters too, and the resulting statement is
    kept, so that a hot list builds no SQL expression per request (SQLAlchemy keys its compiled-SQL
    cache by walking the statement, unless it is the same statement object as last time).

    ``change_column``: the items' change marker (shared.changes). With ``changed_after`` the list is
    ordered by marker, then by ``order_by`` after its first column (ending in a unique one), and
    holds back the markers a transaction still in flight could come in under, so a client that walks
    every page and resumes after the ``last_change`` it was given never misses a committed change.

    ``branches``: the list is the UNION ALL of these selects (``stmt`` is ignored; the columns given
    are named as the branches label them). Each branch is paged on its own (its conditions, order
    and limit), then the branches' pages are merged: each is a range of its own index, where a
    filter or an order on the union would have the database build the whole union for every page.
    """
    limit = min(args.get("limit") or config.page_size_default, config.page_size_max)
    since, cursor, changed_after = args.get("updated_since"), args.get("cursor"), args.get("changed_after")
    if since is not None and updated_column is None:
        raise Problem(
            422,
            "This list cannot be filtered by update time.",
            title="Validation failed",
            errors={"updated_since": ["Not supported here."]},
        )
    if changed_after is not None:
        if change_column is None:
            raise Problem(
                422,
                "This list has no change markers to sync from.",
                title="Validation failed",
                errors={"changed_after": ["Not supported here."]},
            )
        if since is not None:
            raise Problem(
                422,
                "Sync with changed_after or filter with updated_since, not both.",
                title="Validation failed",
                errors={"updated_since": ["Not with changed_after."]},
            )
        order_by = [change_column, *order_by[1:]]
    dialect = session.get_bind().dialect.name
    below = horizon(session) if changed_after is not None else None
    if params is not None:
        stmt = _page_statement(
            stmt,
            tuple(order_by),
            updated_column,
            since is not None,
            bool(cursor),
            limit,
            change_column if changed_after is not None else None,
            dialect,
        )
        params = dict(params)
        if since is not None:
            params["page_updated_since"] = since
        if changed_after is not None:
            params["page_changed_after"] = changed_after
            if below is not None:
                params["page_horizon"] = below
        if cursor:
            params.update({f"page_after_{i}": value for i, value in enumerate(_decode(cursor, order_by))})
    elif branches is not None:
        values = _decode(cursor, order_by) if cursor else None

        def page_of(branch):
            def column(c):
                return branch.selected_columns[c.key]

            if since is not None:
                branch = branch.where(column(updated_column) >= since)
            if changed_after is not None:
                branch = branch.where(column(change_column) > changed_after, settled(column(change_column), below))
            if values is not None:
                branch = branch.where(_after([column(c) for c in order_by], values))
            # As a subquery: SQLite takes no ORDER BY or LIMIT on a member of a UNION itself.
            return select(branch.order_by(*[column(c) for c in order_by]).limit(limit + 1).subquery())

        merged = union_all(*[page_of(branch) for branch in branches]).subquery("page")
        stmt = select(merged).order_by(*[merged.c[c.key] for c in order_by]).limit(limit + 1)
        order_by = [merged.c[c.key] for c in order_by]
    else:
        if since is not None:
            stmt = stmt.where(updated_column >= since)
        if changed_after is not None:
            stmt = stmt.where(change_column > changed_after, settled(change_column, below))
        if cursor:
            stmt = stmt.where(_after(order_by, _decode(cursor, order_by)))
        stmt = stmt.order_by(*order_by).limit(limit + 1)
    if rows:
        found = session.connection().execute(stmt, params).all()
    else:
        # A select of one entity pages entities; a select of columns pages rows.
        result = session.execute(stmt, params)
        found = result.scalars().all() if len(result.keys()) == 1 else result.all()
    items = found[:limit]
    page = {"items": items}
    if len(found) > limit:
        last = items[-1]
        page["next_cursor"] = _encode([getattr(last, c.key) for c in order_by])
    if changed_after is not None:
        if items:
            page["last_change"] = getattr(items[-1], change_column.key)
        else:
            page["last_change"] = _decode(cursor, order_by)[0] if cursor else changed_after
    return page


@functools.lru_cache(maxsize=512)
def _page_statement(
    stmt, order_by: tuple, updated_column, since: bool, cursor: bool, limit: int, change_column=None, dialect: str = ""
):
    """``stmt`` with a page's conditions as bound parameters, built once per kind of page."""
    if since:
        stmt = stmt.where(updated_column >= bindparam("page_updated_since", type_=updated_column.type))
    if change_column is not None:
        stmt = stmt.where(change_column > bindparam("page_changed_after", type_=change_column.type))
        if dialect == "postgresql":  # the horizon (shared.changes.horizon) comes as a parameter
            stmt = stmt.where(change_column < bindparam("page_horizon", type_=change_column.type))
    if cursor:
        stmt = stmt.where(
            _after(
                list(order_by), [bindparam(f"page_after_{i}", type_=column.type) for i, column in enumerate(order_by)]
            )
        )
    return stmt.order_by(*order_by).limit(limit + 1)


def link_header(page: dict) -> dict:
    """A ``Link: <…>; rel="next"`` header for clients that follow links instead of cursors.

    The link starts with the service's configured public URL: the request's ``Host`` and forwarded
    headers are the client's to write, and a forged one would send the next request elsewhere.
    """
    if not page.get("next_cursor"):
        return {}
    query = request.args.to_dict()
    query["cursor"] = page["next_cursor"]
    base = current_app.extensions["service_context"].config.public_base_url
    return {"Link": f'<{base}{request.path}?{urlencode(query)}>; rel="next"'}
