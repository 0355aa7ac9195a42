"""What the portal's forms mean to the APIs, shared by the pages (pure: no Flask, no I/O)."""

from __future__ import annotations


def split_ids(text: str) -> list[str]:
    """User ids typed separated by commas or lines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def chosen_facilitators(ticked: list[str], others: str) -> list[str]:
    """The facilitators a form chose: those ticked in the directory, then those typed by user id, once each."""
    return list(dict.fromkeys([*ticked, *split_ids(others)]))


def facilitators_shown(chosen: list[str], directory: list[dict]) -> tuple[set[str], str]:
    """How a form shows facilitators already chosen: ticked where the directory lists them, the rest typed."""
    listed = {entry["sub"] for entry in directory}
    return {sub for sub in chosen if sub in listed}, ", ".join(sub for sub in chosen if sub not in listed)


def facilitated_by(cohort: dict, *, with_ids: bool) -> str:
    """Who facilitates a cohort, as a sentence's end ("Malia Akana and Ben Cho"): by the names the directory
    knows; the rest by user id where ``with_ids`` (managers, who can enter them), else counted."""
    names = cohort.get("facilitator_names") or {}
    named = [names[sub] for sub in cohort.get("facilitators") or [] if sub in names]
    others = [sub for sub in cohort.get("facilitators") or [] if sub not in names]
    if with_ids:
        named += others
    elif others:
        named.append(f"{len(others)} more" if named else f"{len(others)} facilitator{'s' if len(others) > 1 else ''}")
    if len(named) <= 1:
        return "".join(named)
    return f"{', '.join(named[:-1])} and {named[-1]}"


def folded_errors(errors: dict[str, str], field: str) -> dict[str, str]:
    """The API's errors with those of a list's items ("facilitators.1") shown once beside the list's field."""
    folded = {key: message for key, message in errors.items() if not key.startswith(f"{field}.")}
    items = [message for key, message in errors.items() if key.startswith(f"{field}.")]
    if items and field not in folded:
        folded[field] = " ".join(dict.fromkeys(items))
    return folded
