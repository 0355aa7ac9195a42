"""A facilitator's adaptation of a module as the portal's forms show and send it (no Flask here).

The form has one row per core component of the module, in the module's order: ``decision_<n>`` (kept,
adapted, dropped, or nothing yet) and ``rationale_<n>``, with the component's text in ``component_<n>``
so that a save needs no second read of the module. The content service stays the judge of what a
draft and a submission need; the portal only spares a call that would surely be refused.
"""

from __future__ import annotations

STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Waiting for review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
}
# A draft, or one sent back, is the facilitator's to change; a submitted one waits, an approved one is final.
EDITABLE = ("draft", "changes_requested")
DECISIONS = (("kept", "Kept as written"), ("adapted", "Adapted"), ("dropped", "Dropped"))
CHANGED = ("adapted", "dropped")
WHY = "Say why this component is adapted or dropped."


def module_choices(series: list[dict]) -> list[tuple[str, str]]:
    """Every module a facilitator may adapt, as ``(id, "Series: 3. Title")``, in the series' session order."""
    return [
        (module["id"], f"{s['title']}: {module['position']}. {module['title']}")
        for s in series
        for module in sorted(s.get("modules") or [], key=lambda m: m["position"])
    ]


def mine_newest_first(adaptations: list[dict], sub: str) -> list[dict]:
    """The person's own adaptations (a facilitator who also reviews sees their jurisdiction's), latest change first."""
    own = [a for a in adaptations if a.get("facilitator") == sub]
    return sorted(own, key=lambda a: a.get("updated_at") or "", reverse=True)


def start_body(form) -> tuple[dict, dict]:
    """The POST /adaptations body of a new draft (no decisions yet), or the errors beside the fields."""
    body = {
        "module_id": form.get("module_id", "").strip(),
        "title": " ".join(form.get("title", "").split()),
        "audience": form.get("audience", "").strip(),
    }
    errors = {}
    if not body["module_id"]:
        errors["module_id"] = "Choose the module (session) you adapt."
    if not body["title"]:
        errors["title"] = "Give the adaptation a title, such as the audience it is for."
    return body, errors


def component_rows(core_components: list[str], decided: list[dict], form=None) -> list[dict]:
    """One row per core component: its decision and rationale as saved, or as typed when ``form`` is given."""
    saved = {c["component"]: c for c in decided}
    rows = []
    for index, component in enumerate(core_components):
        if form is not None:
            decision, rationale = form.get(f"decision_{index}", ""), form.get(f"rationale_{index}", "")
        else:
            mine = saved.get(component, {})
            decision, rationale = mine.get("decision", ""), mine.get("rationale", "")
        rows.append({"index": index, "component": component, "decision": decision, "rationale": rationale})
    return rows


def components_body(form) -> tuple[list[dict], list[int], dict]:
    """The decided rows of the form as the API's ``components``, the row each came from, and the rows' errors.

    A draft may leave components undecided; an adapted or dropped one needs its reason.
    """
    components, rows, errors = [], [], {}
    index = 0
    while f"component_{index}" in form:
        decision = form.get(f"decision_{index}", "")
        rationale = form.get(f"rationale_{index}", "").strip()
        if decision:
            components.append({"component": form[f"component_{index}"], "decision": decision, "rationale": rationale})
            rows.append(index)
            if decision in CHANGED and not rationale:
                errors[f"rationale_{index}"] = WHY
        index += 1
    return components, rows, errors


def undecided(form) -> dict:
    """Before a submission: each row without a decision, as an error beside it."""
    errors = {}
    index = 0
    while f"component_{index}" in form:
        if not form.get(f"decision_{index}"):
            errors[f"decision_{index}"] = "Decide this component before submitting: kept, adapted or dropped."
        index += 1
    return errors


def api_errors(field_errors: dict[str, str], rows: list[int]) -> dict:
    """The API's errors on ``components.<i>.<field>`` beside the form's row ``i`` came from; others as they are."""
    shown = {}
    for name, message in field_errors.items():
        parts = name.split(".")
        if parts[0] == "components" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            key = "decision" if parts[2] == "decision" else "rationale"
            shown[f"{key}_{rows[int(parts[1])]}"] = message
        elif parts[0] == "components":
            shown["components"] = message
        else:
            shown[parts[0]] = message
    return shown
