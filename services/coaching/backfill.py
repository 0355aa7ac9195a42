"""The backfill: plans for completions scheduling recorded before coaching first ran (their events found no queue).

``python -m services.coaching.manage backfill --from https://scheduling.example.org`` walks scheduling's
``GET /training-hours`` with ``changed_after`` (every row, lossless), keeps the completed ones, reads each
cohort's series once (``GET /cohorts/{id}``) and opens a plan for each completion of the training for
trainers that has none (a plan opened before completions carried the trainer's name gets it). A plan is keyed by its jurisdiction and registration, whichever path opens it
first, so the backfill may run any number of times, and while the consumer runs, without a second plan.
The caller's credentials come from ``SCHEDULING_TOKEN`` (a national admin's bearer token for every
jurisdiction, or a jurisdiction admin's or a state system's API key ``t4tk_…`` for one).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from datetime import datetime

import requests
from sqlalchemy.exc import IntegrityError

from services.coaching import repository as repo
from services.coaching.use_cases import plans
from shared.db import Database
from shared.logging import configure_logging, get_logger

log = get_logger("backfill")


def completions(get: Callable[[str, dict], dict]) -> Iterator[dict]:
    """Every completed, active training-hours row, page by page, from the first change on."""
    params = {"changed_after": 0, "limit": 500}
    while True:
        page = get("/training-hours", params)
        for row in page["items"]:
            if row.get("completed") and row.get("registration_id") and row.get("status", "active") == "active":
                yield row
        if page.get("next_cursor"):
            params = {**params, "cursor": page["next_cursor"]}
        else:
            return


def backfill(db: Database, get: Callable[[str, dict], dict]) -> dict:
    """Open the plans the events never opened; return counts (seen, opened, already there, not trainers)."""
    counts = {"completions": 0, "opened": 0, "existing": 0, "other_series": 0}
    series_of: dict[str, str] = {}
    for row in completions(get):
        counts["completions"] += 1
        cohort = row["cohort_id"]
        if cohort not in series_of:
            series_of[cohort] = get(f"/cohorts/{cohort}", {})["series_id"]
        data = {
            "cohort_id": cohort,
            "series_id": series_of[cohort],
            "registration_id": row["registration_id"],
            "participant": row["participant"],
            # The export shows the participant's id where the registration has no name: that is no name.
            "participant_name": row["name"] if row.get("name") and row["name"] != row["participant"] else None,
            "registry_id": row.get("registry_id"),
            "completed_at": datetime.fromisoformat(row["completed_at"]),
            "certificate_code": None,
        }
        with db.unit_of_work() as uow:
            if not repo.is_trainer_series(uow.session, data["series_id"]):
                counts["other_series"] += 1
                continue
            try:
                opened = plans.open_plan(uow.session, data, tenant=row["jurisdiction"], opened_by="backfill")
                uow.commit()
            except IntegrityError:
                opened = None  # the consumer opened it a moment ago: the unique key kept it to one
        counts["opened" if opened else "existing"] += 1
    return counts


def http_getter(base_url: str, credential: str, *, timeout: float = 30.0) -> Callable[[str, dict], dict]:
    session = requests.Session()
    if credential.startswith("t4tk_"):
        session.headers["X-API-Key"] = credential
    else:
        session.headers["Authorization"] = f"Bearer {credential}"
    session.headers["Accept"] = "application/json"

    def get(path: str, params: dict) -> dict:
        response = session.get(base_url.rstrip("/") + path, params=params, timeout=timeout)
        response.raise_for_status()
        return response.json()

    return get


def main(argv: list[str]) -> int:
    from services.coaching.bootstrap import build_context

    parser = argparse.ArgumentParser(prog="python -m services.coaching.manage backfill", description=__doc__)
    parser.add_argument("--from", dest="base_url", required=True, help="scheduling's base URL")
    args = parser.parse_args(argv)
    credential = os.environ.get("SCHEDULING_TOKEN", "")
    if not credential:
        parser.error("set SCHEDULING_TOKEN to a national admin's token or a jurisdiction's API key")
    ctx = build_context()
    configure_logging(ctx.config.log_level)
    counts = backfill(ctx.db, http_getter(args.base_url, credential))
    log.info("backfill", **counts)
    print(
        f"{counts['completions']} completions read: {counts['opened']} plans opened, "
        f"{counts['existing']} already open, {counts['other_series']} of another series"
    )
    return 0
