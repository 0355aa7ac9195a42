"""A value as a CSV cell that a spreadsheet shows as written: the platform's one rule for CSV exports."""

from __future__ import annotations

from datetime import date, datetime

# A cell starting with one of these runs as a formula in a spreadsheet (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """``value`` as CSV text: empty for None, ISO 8601 dates, lists joined by ``;``, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if isinstance(value, str) and text[:1] in FORMULA_STARTS:
        return "'" + text
    return text
