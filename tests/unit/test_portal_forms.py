"""What the portal's forms send and show for facilitators: chosen by name, typed by user id, errors beside them."""

from __future__ import annotations

from services.portal.forms import chosen_facilitators, facilitators_shown, folded_errors, split_ids

DIRECTORY = [{"sub": "fac-fran", "name": "Fran Facilitator"}, {"sub": "fac-malia", "name": "Malia Akana"}]


def test_user_ids_are_split_on_commas_and_lines():
    assert split_ids(" ana, ben,\n carla ,, \n") == ["ana", "ben", "carla"]


def test_facilitators_ticked_then_typed_are_chosen_once_each_in_that_order():
    assert chosen_facilitators(["fac-malia", "fac-fran"], "guest-1, fac-fran,\nguest-2") == [
        "fac-malia",
        "fac-fran",
        "guest-1",
        "guest-2",
    ]
    assert chosen_facilitators([], "") == []


def test_chosen_facilitators_show_ticked_by_name_where_the_directory_has_them_and_typed_otherwise():
    ticked, typed = facilitators_shown(["guest-1", "fac-fran", "guest-2"], DIRECTORY)
    assert (ticked, typed) == ({"fac-fran"}, "guest-1, guest-2")
    assert facilitators_shown([], DIRECTORY) == (set(), "")
    # What is shown is chosen again as it was.
    assert sorted(chosen_facilitators(sorted(ticked), typed)) == sorted(["guest-1", "fac-fran", "guest-2"])


def test_errors_of_a_lists_items_show_once_beside_the_list():
    errors = {"title": "Required.", "facilitators.0": "Too long.", "facilitators.3": "Too long."}
    assert folded_errors(errors, "facilitators") == {"title": "Required.", "facilitators": "Too long."}
    # The list's own error wins over its items'; other fields' errors are untouched.
    assert folded_errors({"facilitators": "Too many.", "facilitators.1": "Too long."}, "facilitators") == {
        "facilitators": "Too many."
    }
    assert folded_errors({"facilitators_note": "x"}, "facilitators") == {"facilitators_note": "x"}


def test_a_cohort_is_facilitated_by_the_names_known_and_managers_also_see_the_others_ids():
    from services.portal.forms import facilitated_by

    cohort = {"facilitators": ["fac-1", "auth0|x", "fac-2"], "facilitator_names": {"fac-1": "Malia", "fac-2": "Ben"}}
    assert facilitated_by(cohort, with_ids=True) == "Malia, Ben and auth0|x"
    assert facilitated_by(cohort, with_ids=False) == "Malia, Ben and 1 more"
    assert facilitated_by({"facilitators": ["auth0|x"], "facilitator_names": {}}, with_ids=False) == "1 facilitator"
    assert (
        facilitated_by({"facilitators": ["fac-1"], "facilitator_names": {"fac-1": "Malia"}}, with_ids=True) == "Malia"
    )
    assert facilitated_by({"facilitators": []}, with_ids=True) == ""
