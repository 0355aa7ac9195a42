"""Adaptation rules: the fidelity-review lifecycle, the fidelity checklist and valid component decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from shared.errors import Conflict, Forbidden, InvalidInput

DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
STATUSES = (DRAFT, SUBMITTED, APPROVED, CHANGES_REQUESTED)

# What a facilitator or a specialist does to an adaptation; review decisions are actions too.
EDIT = "edit"
SUBMIT = "submit"
APPROVE = "approved"
REQUEST_CHANGES = "changes_requested"
ACTIONS = (EDIT, SUBMIT, APPROVE, REQUEST_CHANGES)

TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, EDIT): DRAFT,
    (DRAFT, SUBMIT): SUBMITTED,
    (CHANGES_REQUESTED, EDIT): CHANGES_REQUESTED,
    (CHANGES_REQUESTED, SUBMIT): SUBMITTED,
    (SUBMITTED, APPROVE): APPROVED,
    (SUBMITTED, REQUEST_CHANGES): CHANGES_REQUESTED,
}

FIDELITY_CHECKLIST: tuple[str, ...] = (
    "Every core component is addressed",
    "Adaptations keep the intent of the practice",
    "A rationale is given for each adapted or dropped component",
    "Key messages and objectives are preserved",
    "Adapted material is accurate and culturally responsive",
    "Time allocated is sufficient for the learning activities",
)

_REFUSALS = {
    SUBMITTED: "The adaptation is under review; wait for the specialist's decision.",
    APPROVED: "An approved adaptation is final; create a new adaptation to change it.",
}


def transition(status: str, action: str) -> str:
    """The status after ``action``; Conflict if the lifecycle does not allow it from ``status``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        pass
    if action in (APPROVE, REQUEST_CHANGES):
        raise Conflict(
            f"Only a submitted adaptation can be reviewed; this one is {status}.",
            errors={"status": [f"Is {status}, not {SUBMITTED}."]},
        )
    detail = _REFUSALS.get(status, f"An adaptation that is {status} cannot be changed.")
    raise Conflict(detail, errors={"status": [f"Is {status}."]})


def submit(status: str, revision: int) -> tuple[str, int]:
    """The status and revision after a submission: every submission is a new revision."""
    return transition(status, SUBMIT), revision + 1


def check_owner(caller: str, facilitator: str) -> None:
    """Only the facilitator who wrote an adaptation changes or submits it."""
    if caller != facilitator:
        raise Forbidden("Only the facilitator who wrote this adaptation may change or submit it.")


def check_reviewer(reviewer: str, facilitator: str) -> None:
    """Fidelity review is a second pair of eyes: nobody reviews their own adaptation."""
    if reviewer == facilitator:
        raise Forbidden("You cannot review your own adaptation.")


def check_components(components: Sequence[Mapping], core_components: Iterable[str]) -> None:
    """Each decision names a core component of the module, and no component is decided twice."""
    core = list(core_components)
    known = set(core)
    seen: set[str] = set()
    messages = []
    for decision in components:
        name = decision["component"]
        if name not in known:
            messages.append(
                f"Not a core component of this module: {name!r} (core components: {', '.join(core) or 'none'})."
            )
        elif name in seen:
            messages.append(f"More than one decision for {name!r}.")
        seen.add(name)
    if messages:
        raise InvalidInput(
            "Component decisions must name the module's core components, once each.", errors={"components": messages}
        )


def missing_components(components: Sequence[Mapping], core_components: Iterable[str]) -> list[str]:
    """The module's core components that have no decision yet, in the module's order."""
    decided = {decision["component"] for decision in components}
    return [name for name in core_components if name not in decided]


def check_submittable(components: Sequence[Mapping], core_components: Iterable[str]) -> None:
    """A submission decides (keep, adapt or drop) every core component of the module."""
    core = list(core_components)
    check_components(components, core)
    missing = missing_components(components, core)
    if missing:
        raise InvalidInput(
            "Every core component needs a decision before the adaptation is submitted.",
            errors={"components": [f"No decision for core component {name!r}." for name in missing]},
        )


def check_review(decision: str, checklist: Sequence[Mapping], comments: str) -> list[dict]:
    """Validate a review; return its checklist in the canonical order of FIDELITY_CHECKLIST.

    Every checklist item is answered exactly once; approval needs every item met; a request for
    changes says, in the comments, what to change.
    """
    if decision not in (APPROVE, REQUEST_CHANGES):
        raise InvalidInput(
            "Unknown review decision.", errors={"decision": [f"Not one of {APPROVE}, {REQUEST_CHANGES}."]}
        )
    answers: dict[str, Mapping] = {}
    messages = []
    for answer in checklist:
        item = answer["item"]
        if item not in FIDELITY_CHECKLIST:
            messages.append(f"Not a fidelity checklist item: {item!r}.")
        elif item in answers:
            messages.append(f"Answered more than once: {item!r}.")
        else:
            answers[item] = answer
    messages += [f"Not answered: {item!r}." for item in FIDELITY_CHECKLIST if item not in answers]
    if messages:
        raise InvalidInput(
            "A review answers every fidelity checklist item exactly once.", errors={"checklist": messages}
        )
    errors = {}
    if decision == APPROVE:
        unmet = [item for item in FIDELITY_CHECKLIST if not answers[item]["met"]]
        if unmet:
            errors["checklist"] = [f"Not met, so the adaptation cannot be approved: {item!r}." for item in unmet]
    if decision == REQUEST_CHANGES and not (comments or "").strip():
        errors["comments"] = ["Say what the facilitator should change."]
    if errors:
        raise InvalidInput("The review's decision does not match its checklist and comments.", errors=errors)
    return [
        {"item": item, "met": bool(answers[item]["met"]), "comment": answers[item].get("comment", "")}
        for item in FIDELITY_CHECKLIST
    ]
