"""Report figures from plain rows: activities by kind, hours by month, commitments by status, fidelity."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

from services.coaching.domain import commitments as rules
from services.coaching.domain.activities import KINDS
from shared import spreadsheet


def summary(activities: list[tuple], commitments: list[tuple], scores: list[tuple], today: date) -> dict:
    """``activities``: (kind, occurred_on, minutes); ``commitments``: (due_on, fulfilled_on);
    ``scores``: (practice or None, score). Hours to the hundredth."""
    by_kind = {kind: {"count": 0, "hours": 0.0} for kind in KINDS}
    by_month: dict[str, float] = defaultdict(float)
    for kind, occurred_on, minutes in activities:
        by_kind[kind]["count"] += 1
        by_kind[kind]["hours"] += minutes / 60
        by_month[occurred_on.strftime("%Y-%m")] += minutes / 60
    statuses = {status: 0 for status in rules.STATUSES}
    for due_on, fulfilled_on in commitments:
        statuses[rules.status(due_on, fulfilled_on, today)] += 1
    per_practice: dict[str, list[float]] = defaultdict(list)
    for practice, score in scores:
        per_practice[practice or "all_practices"].append(score)
    return {
        "activities_by_kind": {k: {"count": v["count"], "hours": round(v["hours"], 2)} for k, v in by_kind.items()},
        "hours_by_month": {month: round(hours, 2) for month, hours in sorted(by_month.items())},
        "commitments_by_status": statuses,
        "fidelity": {
            "observations": len(scores),
            "average": round(sum(s for _, s in scores) / len(scores), 4) if scores else None,
            "by_practice": {p: round(sum(v) / len(v), 4) for p, v in sorted(per_practice.items())},
        },
    }


def to_csv(columns: tuple[str, ...], rows: list[dict]) -> str:
    """The rows as CSV with a header row (RFC 4180 line endings)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet.cell(row.get(column)) for column in columns])
    return out.getvalue()


def summary_rows(tenant: str, figures: dict) -> list[dict]:
    """A summary flattened to (jurisdiction, measure, key, value) rows, for CSV."""
    rows = []
    for kind, v in figures["activities_by_kind"].items():
        rows.append({"jurisdiction": tenant, "measure": "activities", "key": kind, "value": v["count"]})
        rows.append({"jurisdiction": tenant, "measure": "activity_hours", "key": kind, "value": v["hours"]})
    for month, hours in figures["hours_by_month"].items():
        rows.append({"jurisdiction": tenant, "measure": "hours_by_month", "key": month, "value": hours})
    for status, count in figures["commitments_by_status"].items():
        rows.append({"jurisdiction": tenant, "measure": "commitments", "key": status, "value": count})
    for practice, average in figures["fidelity"]["by_practice"].items():
        rows.append({"jurisdiction": tenant, "measure": "fidelity_average", "key": practice, "value": average})
    return rows


SUMMARY_COLUMNS = ("jurisdiction", "measure", "key", "value")
