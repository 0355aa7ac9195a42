"""``make bench``'s final verdicts carry coaching's targets: a coaching miss is a MISS, a broken page FAILED."""

from __future__ import annotations

import copy

from bench import coaching
from bench.__main__ import all_verdicts


def figures(*, caseload_p99=40.0, report_p99=60.0, reach_s=0.8, growth=1.9, errors=0, miscounts=()) -> dict:
    """Coaching's figures as bench.coaching gives them, with the measures a test sets."""
    concurrent = {
        "clients": 8,
        "miscounts": list(miscounts),
        **{
            page: {
                "api_p99_ms": p99,
                "ratio": 0.8,
                "api_statuses": {"200": 100, "5xx": errors},
                "bare_statuses": {"200": 100},
            }
            for page, p99 in (("caseload", caseload_p99), ("report", report_p99))
        },
    }
    half = {"reach_s": reach_s / 2, "concurrent": copy.deepcopy(concurrent)}
    return {"half": half, "full": {"reach_s": reach_s, "concurrent": concurrent}, "growth": growth}


def coaching_verdicts(f: dict) -> dict[str, str]:
    return {v["name"]: v["verdict"] for v in all_verdicts({"reads": {}, "coaching": f}) if "coaching" in v["name"]}


def test_every_coaching_target_is_in_the_final_verdicts_and_passes_when_met():
    shown = coaching_verdicts(figures())
    assert shown == {
        "coaching caseload (half data, concurrent)": "PASS",
        "coaching report (half data, concurrent)": "PASS",
        "coaching caseload (full data, concurrent)": "PASS",
        "coaching report (full data, concurrent)": "PASS",
        "coaching national reach roll-up (full data)": "PASS",
        "coaching growth from half to full data (worst of caseload, report, reach)": "PASS",
    }


def test_each_missed_coaching_target_is_a_miss():
    assert coaching_verdicts(figures(caseload_p99=100.0))["coaching caseload (full data, concurrent)"] == "MISS"
    assert coaching_verdicts(figures(report_p99=150.0))["coaching report (full data, concurrent)"] == "MISS"
    assert coaching_verdicts(figures(reach_s=2.0))["coaching national reach roll-up (full data)"] == "MISS"
    grown = coaching_verdicts(figures(growth=2.3))
    assert grown["coaching growth from half to full data (worst of caseload, report, reach)"] == "MISS"
    assert coaching.TARGETS == {"caseload_p99_ms": 100.0, "report_p99_ms": 100.0, "reach_s": 2.0, "growth": 2.2}


def test_a_5xx_or_a_miscounted_page_fails_the_run():
    for broken in (figures(errors=1), figures(miscounts=["caseload J001/its-J001-0: 200, expected 3 trainers"])):
        verdicts = all_verdicts({"reads": {}, "coaching": broken})
        assert "FAILED" in {v["verdict"] for v in verdicts if "concurrent" in v["name"]}
