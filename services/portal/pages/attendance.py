"""Taking attendance on a phone, with or without a network: the sheet, its form, and the sync of queued marks."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from services.portal import identity
from services.portal.backend import BackendError
from services.portal.pages import backend, token

blp = Blueprint("attendance", __name__)
STATUSES = ("present", "partial", "absent")
MAX_MARKS = 500  # the API's limit for one sheet


@blp.get("/sessions/<session_id>/attendance")
@identity.signed_in
def sheet(session_id):
    """The attendance sheet: one call. The page works offline (see static/attendance.js and static/sw.js)."""
    data = backend().get("scheduling", f"/sessions/{session_id}/attendance", token=token())
    return render_template("attendance.html", sheet=data, statuses=STATUSES, errors={})


@blp.post("/sessions/<session_id>/attendance")
@identity.signed_in
def save(session_id):
    """The form without JavaScript: every row's mark at once."""
    records = []
    for key, status in request.form.items():
        if key.startswith("status-") and status in STATUSES:
            registration_id = key.removeprefix("status-")
            record = {"registration_id": registration_id, "status": status}
            if status == "partial":
                minutes = request.form.get(f"minutes-{registration_id}", "")
                record["minutes"] = int(minutes) if minutes.isdigit() else None
            records.append(record)
    if not records:
        return redirect(url_for("attendance.sheet", session_id=session_id))
    try:
        backend().put("scheduling", f"/sessions/{session_id}/attendance", token=token(), json={"records": records})
    except BackendError as error:
        if error.status not in (409, 422):
            raise
        data = backend().get("scheduling", f"/sessions/{session_id}/attendance", token=token())
        errors = _errors_by_registration(error, records)
        return render_template("attendance.html", sheet=data, statuses=STATUSES, errors=errors), 422
    return redirect(url_for("attendance.sheet", session_id=session_id, saved=len(records)))


def _errors_by_registration(error: BackendError, records: list[dict]) -> dict:
    """The API names a bad record by its index; the page shows it next to that person."""
    errors = {"_form": error.message}
    for name, message in error.field_errors.items():
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "records" and parts[1].isdigit() and int(parts[1]) < len(records):
            errors[records[int(parts[1])]["registration_id"]] = message
    return errors


@blp.post("/sessions/<session_id>/attendance/marks")
@identity.signed_in
def sync(session_id):
    """Apply marks queued on a device: ``{"marks": [{"key", "registration_id", "status", "minutes", "marked_at"}]}``.

    The conflict rule: the later edit wins. A queued mark is written unless the sheet holds a different
    mark recorded after the queued one was made (someone corrected it since); then the queued mark is
    dropped as superseded. A mark already on the sheet is acknowledged without a write, so a mark sent
    twice (its answer lost on a poor connection) is still written once. Two calls: the sheet, the write.
    """
    payload = request.get_json(silent=True)
    marks = payload.get("marks") if isinstance(payload, dict) else None
    problems = _check_marks(marks)
    if problems:
        return jsonify({"title": "Marks not accepted", "errors": problems}), 422
    current = backend().get("scheduling", f"/sessions/{session_id}/attendance", token=token())
    rows = {row["registration_id"]: row for row in current["records"]}
    applied, superseded, to_write = [], [], {}
    for mark in sorted(marks, key=lambda m: _instant(m["marked_at"])):
        row = rows.get(mark["registration_id"], {})
        same = row.get("status") == mark["status"] and (
            mark["status"] != "partial" or row.get("minutes") == mark.get("minutes")
        )
        if same:
            applied.append(mark["key"])
        elif row.get("updated_at") and _instant(row["updated_at"]) > _instant(mark["marked_at"]):
            superseded.append(mark["key"])
        else:
            to_write[mark["registration_id"]] = mark  # a later mark of this device replaces an earlier one
    if to_write:
        records = [
            {"registration_id": m["registration_id"], "status": m["status"]}
            | ({"minutes": m.get("minutes")} if m["status"] == "partial" else {})
            for m in to_write.values()
        ]
        try:
            backend().put(
                "scheduling",
                f"/sessions/{session_id}/attendance",
                token=token(),
                json={"records": records},
                idempotency_key=_batch_key(session_id, to_write.values()),
            )
        except BackendError as error:
            if error.status not in (409, 422):
                raise
            return jsonify({"title": error.message, "errors": error.field_errors}), error.status
        written = {m["key"] for m in to_write.values()}
        applied += [m["key"] for m in marks if m["key"] in written]
        # Earlier marks of the same person, replaced by a later one of this device, are done too.
        superseded += [
            m["key"]
            for m in marks
            if m["registration_id"] in to_write and m["key"] not in written and m["key"] not in applied
        ]
    return jsonify({"applied": applied, "superseded": superseded})


def _batch_key(session_id: str, marks) -> str:
    """The same queued marks sent again (two tabs, or a lost answer) are the same request to the API."""
    keys = "\n".join(sorted(m["key"] for m in marks))
    return "marks-" + hashlib.sha256(f"{session_id}\n{keys}".encode()).hexdigest()


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check_marks(marks) -> dict:
    if not isinstance(marks, list) or not 1 <= len(marks) <= MAX_MARKS:
        return {"marks": f"Send 1 to {MAX_MARKS} marks."}
    problems = {}
    for index, mark in enumerate(marks):
        if not isinstance(mark, dict):
            problems[str(index)] = "A mark is an object."
            continue
        if not isinstance(mark.get("key"), str) or not 1 <= len(mark["key"]) <= 200:
            problems[f"{index}.key"] = "Each mark has its own key (1 to 200 characters)."
        if not isinstance(mark.get("registration_id"), str):
            problems[f"{index}.registration_id"] = "Missing."
        if mark.get("status") not in STATUSES:
            problems[f"{index}.status"] = "present, partial or absent."
        if mark.get("status") == "partial" and not (isinstance(mark.get("minutes"), int) and mark["minutes"] > 0):
            problems[f"{index}.minutes"] = "A partial mark needs the minutes attended."
        try:
            if _instant(str(mark.get("marked_at"))).tzinfo is None:
                raise ValueError
        except ValueError:
            problems[f"{index}.marked_at"] = "When the mark was made, with its offset."
    return problems
