"""The adaptation rules alone: lifecycle, component decisions and the fidelity checklist (no I/O)."""

from __future__ import annotations

import pytest

from services.content.domain import adaptations as rules
from shared.errors import Conflict, Forbidden, InvalidInput

CORE = ["Key concepts", "Slide deck", "Learning activities"]


def kept(*names: str) -> list[dict]:
    return [{"component": name, "decision": "kept", "rationale": ""} for name in names]


def answers(*, unmet: str | None = None) -> list[dict]:
    return [{"item": item, "met": item != unmet, "comment": ""} for item in rules.FIDELITY_CHECKLIST]


# --- lifecycle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("draft", rules.EDIT, "draft"),
        ("draft", rules.SUBMIT, "submitted"),
        ("changes_requested", rules.EDIT, "changes_requested"),
        ("changes_requested", rules.SUBMIT, "submitted"),
        ("submitted", rules.APPROVE, "approved"),
        ("submitted", rules.REQUEST_CHANGES, "changes_requested"),
    ],
)
def test_allowed_transitions(status, action, after):
    assert rules.transition(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("submitted", rules.EDIT),
        ("submitted", rules.SUBMIT),
        ("approved", rules.EDIT),
        ("approved", rules.SUBMIT),
        ("approved", rules.APPROVE),
        ("approved", rules.REQUEST_CHANGES),
        ("draft", rules.APPROVE),
        ("draft", rules.REQUEST_CHANGES),
        ("changes_requested", rules.APPROVE),
    ],
)
def test_refused_transitions_conflict(status, action):
    with pytest.raises(Conflict) as refused:
        rules.transition(status, action)
    assert "status" in refused.value.errors


def test_approved_is_final_and_says_so():
    with pytest.raises(Conflict, match="create a new adaptation"):
        rules.transition(rules.APPROVED, rules.EDIT)


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        rules.transition(rules.DRAFT, "publish")


def test_every_submission_is_a_new_revision():
    assert rules.submit(rules.DRAFT, 0) == (rules.SUBMITTED, 1)
    assert rules.submit(rules.CHANGES_REQUESTED, 1) == (rules.SUBMITTED, 2)


def test_only_the_author_changes_and_nobody_reviews_their_own():
    rules.check_owner("fac-1", "fac-1")
    with pytest.raises(Forbidden):
        rules.check_owner("fac-2", "fac-1")
    rules.check_reviewer("spec-1", "fac-1")
    with pytest.raises(Forbidden):
        rules.check_reviewer("fac-1", "fac-1")


# --- component decisions ------------------------------------------------------------------------


def test_components_may_be_partial_while_drafting():
    rules.check_components(kept("Slide deck"), CORE)
    rules.check_components([], CORE)


def test_unknown_component_is_named():
    with pytest.raises(InvalidInput) as refused:
        rules.check_components(kept("Key concepts", "Puppet show"), CORE)
    [message] = refused.value.errors["components"]
    assert "'Puppet show'" in message


def test_a_component_is_decided_once():
    with pytest.raises(InvalidInput) as refused:
        rules.check_components(kept("Slide deck", "Slide deck"), CORE)
    assert refused.value.errors["components"] == ["More than one decision for 'Slide deck'."]


def test_submission_lists_every_undecided_core_component():
    assert rules.missing_components(kept("Slide deck"), CORE) == ["Key concepts", "Learning activities"]
    with pytest.raises(InvalidInput) as refused:
        rules.check_submittable(kept("Slide deck"), CORE)
    messages = refused.value.errors["components"]
    assert len(messages) == 2
    assert "'Key concepts'" in messages[0] and "'Learning activities'" in messages[1]
    rules.check_submittable(kept(*CORE), CORE)


def test_submission_also_refuses_unknown_components():
    with pytest.raises(InvalidInput, match="core components"):
        rules.check_submittable(kept(*CORE, "Puppet show"), CORE)


# --- fidelity checklist -------------------------------------------------------------------------


def test_checklist_is_a_fixed_list_of_distinct_items():
    assert len(rules.FIDELITY_CHECKLIST) == 6
    assert len(set(rules.FIDELITY_CHECKLIST)) == 6
    assert "Every core component is addressed" in rules.FIDELITY_CHECKLIST


def test_approval_with_every_item_met_returns_the_checklist_in_canonical_order():
    shuffled = list(reversed(answers()))
    result = rules.check_review(rules.APPROVE, shuffled, "")
    assert [a["item"] for a in result] == list(rules.FIDELITY_CHECKLIST)
    assert all(a["met"] for a in result)


def test_approval_needs_every_item_met():
    item = "Key messages and objectives are preserved"
    with pytest.raises(InvalidInput) as refused:
        rules.check_review(rules.APPROVE, answers(unmet=item), "Nearly there.")
    [message] = refused.value.errors["checklist"]
    assert repr(item) in message


def test_changes_requested_needs_comments():
    for comments in ("", "  \n"):
        with pytest.raises(InvalidInput) as refused:
            rules.check_review(rules.REQUEST_CHANGES, answers(unmet="Every core component is addressed"), comments)
        assert list(refused.value.errors) == ["comments"]
    rules.check_review(rules.REQUEST_CHANGES, answers(), "Tighten the timing of the activities.")


def test_every_item_is_answered_exactly_once():
    missing = answers()[1:]
    with pytest.raises(InvalidInput) as refused:
        rules.check_review(rules.APPROVE, missing, "")
    assert refused.value.errors["checklist"] == [f"Not answered: {rules.FIDELITY_CHECKLIST[0]!r}."]

    with pytest.raises(InvalidInput) as refused:
        rules.check_review(rules.APPROVE, answers() + answers()[:1], "")
    assert refused.value.errors["checklist"] == [f"Answered more than once: {rules.FIDELITY_CHECKLIST[0]!r}."]

    extra = answers() + [{"item": "Snacks were provided", "met": True}]
    with pytest.raises(InvalidInput) as refused:
        rules.check_review(rules.APPROVE, extra, "")
    assert refused.value.errors["checklist"] == ["Not a fidelity checklist item: 'Snacks were provided'."]


def test_unknown_decision_is_refused():
    with pytest.raises(InvalidInput) as refused:
        rules.check_review("maybe", answers(), "")
    assert "decision" in refused.value.errors
