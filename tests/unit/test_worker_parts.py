"""The parts a worker's command line names (``python -m services.<service>.worker consumer``)."""

from __future__ import annotations

import pytest

from shared.messaging.worker import ROLES, roles_from


def test_no_part_named_runs_every_part():
    assert roles_from([]) == ROLES == ("consumer", "relay", "jobs")


def test_each_part_alone_and_together_in_a_fixed_order():
    assert roles_from(["relay"]) == ("relay",)
    assert roles_from(["jobs", "consumer"]) == ("consumer", "jobs")


def test_an_unknown_part_stops_the_process_with_a_message():
    with pytest.raises(SystemExit, match="unknown worker part"):
        roles_from(["consumers"])
