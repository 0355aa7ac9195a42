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


def folded_errors(errors: dict[str, str], field: str) -> dict[str, str]:
    """The API's errors with those of a list's items ("facilitators.1") shown once beside the list's field."""
    folded = {key: message for key, message in errors.items() if not key.startswith(f"{field}.")}
    items = [message for key, message in errors.items() if key.startswith(f"{field}.")]
    if items and field not in folded:
        folded[field] = " ".join(dict.fromkeys(items))
    return folded
