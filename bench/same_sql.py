"""The SQL an endpoint runs, captured from the service itself, and replayed without the service.

``capture`` sends one request to the service in process (Flask's test client, the real app on the
real database) and records every statement SQLAlchemy sends, its parameters, its rows and where its
transactions commit. ``Plan`` then works out where each parameter came from, by its value:

- an input of the request (the id asked for, the caller's jurisdiction, a filter, the cursor);
- a column of an earlier statement's rows (the session's cohort, the ids of a page), including the
  lists of an ``IN (…)``, whose length follows the rows;
- text holding inputs (six characters or more) or ids the service made up (a new registration's
  id, inside the JSON of the rows written): the inputs replaced, and fresh ids on each replay;
- anything else stays as captured (a status, a limit, a timestamp).

The bare ceiling (``bench.bare_app``) replays a plan for other inputs: the same statements, in the
same order and transactions, on a plain psycopg connection, with no framework around them.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

_IN_LIST = re.compile(r"IN \(((?:%\(\w+\)s(?:::\w+)?(?:, )?)+)\)")
_NAME = re.compile(r"%\((\w+)\)s")


@dataclass
class Step:
    statement: str
    params: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)  # as captured
    columns: list = field(default_factory=list)
    commit: bool = False  # a commit marker, not a statement
    sources: dict = field(default_factory=dict)  # param name -> where its value comes from
    lists: dict = field(default_factory=dict)  # first param of an IN list -> (names, source)


def _is_uuid(value) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _has_text(value, texts: list[str]) -> bool:
    """Whether ``value`` (text, or a list of texts) holds an input or an id made up by the service."""
    if isinstance(value, list):
        return any(_has_text(item, texts) for item in value)
    return isinstance(value, str) and (bool(_UUID.search(value)) or any(text in value for text in texts))


def _fill(value, sample: dict, inputs: dict, fresh: dict):
    """``value`` with the sample's inputs replaced by this request's, and fresh ids for made-up ones."""
    if isinstance(value, list):
        return [_fill(item, sample, inputs, fresh) for item in value]
    if not isinstance(value, str):
        return value
    new_texts = set()
    for name, old in sorted(sample.items(), key=lambda item: -len(str(item[1]))):
        if isinstance(old, str) and len(old) >= 6 and old in value:
            value = value.replace(old, str(inputs[name]))
            new_texts.add(str(inputs[name]))
    return _UUID.sub(
        lambda m: m.group(0) if m.group(0) in new_texts else fresh.setdefault(m.group(0), str(uuid.uuid4())), value
    )


def _matchable(value) -> bool:
    return isinstance(value, datetime) or (isinstance(value, str) and len(value) >= 2)


def _find(value, steps: list[Step]):
    """(step index, column) of the latest earlier statement whose rows hold ``value``, else None."""
    for j in range(len(steps) - 1, -1, -1):
        for row in steps[j].rows:
            for c, held in enumerate(row):
                if held == value and type(held) is type(value):
                    return j, c
    return None


def resolve_sources(steps: list[Step], inputs: dict) -> None:
    """Say where each parameter of each statement comes from (see the module's docstring)."""
    by_value = {}
    texts = [v for v in inputs.values() if isinstance(v, str) and len(v) >= 6]
    for name, value in inputs.items():
        if value is not None:
            by_value.setdefault((type(value), value), name)
    for i, step in enumerate(steps):
        if step.commit:
            continue
        in_lists = [_NAME.findall(group) for group in _IN_LIST.findall(step.statement)]
        listed = {name for names in in_lists for name in names}
        for names in in_lists:
            values = [step.params[name] for name in names]
            found = [_find(v, steps[:i]) if _matchable(v) else None for v in values]
            if all(f is not None for f in found) and len({f for f in found}) == 1 and len(names) > 0:
                step.lists[names[0]] = (names, ("rows", *found[0]))
            else:
                for name in names:
                    listed.discard(name)
        for name, value in step.params.items():
            if name in listed:
                continue
            key = (type(value), value)
            if _matchable(value) and key in by_value:
                step.sources[name] = ("input", by_value[key])
            elif _matchable(value) and (found := _find(value, steps[:i])) is not None:
                step.sources[name] = ("row", *found)
            elif _has_text(value, texts):
                step.sources[name] = ("template", value)
            else:
                step.sources[name] = ("constant", value)


def capture(app, method: str, path: str, headers: dict, inputs: dict, **request) -> tuple[object, list[Step]]:
    """The response to one request and the statements it ran, with their sources resolved."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    steps: list[Step] = []

    def executed(conn, cursor, statement, parameters, context, executemany):
        if executemany or not isinstance(parameters, dict | type(None)):
            steps.append(Step(statement, {"__many__": parameters}))
            return
        step = Step(statement, dict(parameters or {}))
        if cursor.description:
            step.columns = [d.name for d in cursor.description]
            step.rows = [tuple(row) for row in cursor.fetchall()]
            if step.rows:
                cursor.scroll(0, mode="absolute")  # SQLAlchemy reads them again
        steps.append(step)

    def committed(conn):
        steps.append(Step("", commit=True))

    event.listen(Engine, "after_cursor_execute", executed)
    event.listen(Engine, "commit", committed)
    try:
        response = app.test_client().open(path, method=method, headers=headers, **request)
    finally:
        event.remove(Engine, "after_cursor_execute", executed)
        event.remove(Engine, "commit", committed)
    resolve_sources(steps, inputs)
    return response, steps


def cursor_inputs(cursor: str) -> dict:
    """A page cursor as inputs ``cursor_0``, ``cursor_1``… (base64 of a JSON list; times as ISO text)."""
    values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    inputs = {}
    for n, value in enumerate(values):
        try:
            value = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            pass
        inputs[f"cursor_{n}"] = value
    return inputs


class MissingRow(Exception):
    """A statement the plan reads from found no row (the replay cannot go the captured way)."""


def replay(conn, steps: list[Step], sample: dict, inputs: dict, *, autocommit: bool = False) -> list[list]:
    """Run ``steps`` (captured for the inputs ``sample``) for ``inputs`` on a psycopg connection;
    the rows of each statement."""
    results: list[list] = []
    fresh: dict[str, str] = {}

    def value_of(source):
        kind = source[0]
        if kind == "input":
            return inputs[source[1]]
        if kind == "row":
            rows = results[source[1]]
            if not rows:
                raise MissingRow(f"statement {source[1]} found no row")
            return rows[0][source[2]]
        if kind == "template":
            return _fill(source[1], sample, inputs, fresh)
        return source[1]

    for step in steps:
        if step.commit:
            if not autocommit:
                conn.commit()
            results.append([])
            continue
        statement, params = step.statement, {}
        for name, source in step.sources.items():
            params[name] = value_of(source)
        for first, (_names, (_rows, j, c)) in step.lists.items():
            values = list(dict.fromkeys(row[c] for row in results[j]))
            if not values:
                raise MissingRow(f"statement {j} found no row for an IN list")
            cast = re.search(rf"%\({first}\)s(::\w+)?", statement).group(1) or ""
            placeholders = ", ".join(f"%({first}__{k})s{cast}" for k in range(len(values)))
            original = next(m.group(0) for m in _IN_LIST.finditer(statement) if _NAME.findall(m.group(1))[0] == first)
            statement = statement.replace(original, f"IN ({placeholders})")
            params.update({f"{first}__{k}": v for k, v in enumerate(values)})
        cursor = conn.execute(statement, params)
        results.append(cursor.fetchall() if cursor.description else [])
    if not autocommit:
        conn.commit()
    return results


def describe(steps: list[Step]) -> list[str]:
    """One line per statement, for the report: its first words and where its parameters come from."""
    lines = []
    for step in steps:
        if step.commit:
            lines.append("COMMIT")
            continue
        sources = sorted(
            {s[0] if s[0] != "input" else f"input {s[1]}" for s in step.sources.values()}
            | {"rows (IN list)" for _ in step.lists}
        )
        lines.append(f"{' '.join(step.statement.split())[:90]}…  [{', '.join(sources)}]")
    return lines
