"""Fidelity: a session's score from its checklist (core components kept, adapted or dropped)."""

from __future__ import annotations

DECISIONS = ("kept", "adapted", "dropped")
# Kept delivers the component as designed; adapted keeps its intent; dropped loses it.
WEIGHTS = {"kept": 1.0, "adapted": 0.5, "dropped": 0.0}


def score(checklist: list[dict]) -> float:
    """The share of the session's core components delivered, adapted ones counting half (0 to 1)."""
    if not checklist:
        raise ValueError("a checklist needs at least one component")
    return round(sum(WEIGHTS[item["decision"]] for item in checklist) / len(checklist), 4)


def trend(observations: list[tuple]) -> str:
    """ "improving", "declining" or "steady" from (observed_on, score) pairs: last half against first half."""
    if len(observations) < 2:
        return "steady"
    ordered = [s for _, s in sorted(observations)]
    half = len(ordered) // 2
    first, last = sum(ordered[:half]) / half, sum(ordered[-half:]) / half
    if last - first > 0.05:
        return "improving"
    if first - last > 0.05:
        return "declining"
    return "steady"
