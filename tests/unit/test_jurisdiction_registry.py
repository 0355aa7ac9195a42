"""A service's registry of jurisdictions: the static list, plus its own table read rarely and safely."""

from __future__ import annotations

import threading

import pytest

from shared.jurisdictions import JurisdictionRegistry, JurisdictionsUnavailable


class Table:
    """The service's jurisdictions table, as the registry's read function sees it; counts reads."""

    def __init__(self, *codes: str, delay: threading.Event | None = None):
        self.codes = set(codes)
        self.reads = 0
        self.delay = delay
        self.down = False

    def read(self) -> list[str]:
        self.reads += 1
        if self.delay is not None:
            self.delay.wait(5)
        if self.down:
            raise ConnectionError("database away")
        return sorted(self.codes)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_states_territories_and_the_national_rules_need_no_read():
    table = Table()
    registry = JurisdictionRegistry(table.read)
    assert registry.knows("CA") and registry.knows("GU") and registry.knows("PR")
    assert not registry.knows("ca") and not registry.knows("Guam") and not registry.knows("")
    assert not registry.knows("A" * 41)  # longer than any code
    assert table.reads == 0


def test_a_flood_of_unknown_codes_reads_the_table_once_per_interval():
    table, clock = Table("NAVAJO"), Clock()
    registry = JurisdictionRegistry(table.read, refresh_seconds=2.0, clock=clock)
    assert not any(registry.knows(f"ZZ{n}") for n in range(1000))
    assert table.reads == registry.reads == 1
    assert registry.knows("NAVAJO") and table.reads == 1  # the one read brought the Tribes in
    clock.now += 1.9
    assert not registry.knows("ZZNEW") and table.reads == 1
    clock.now += 0.1
    assert not any(registry.knows(f"YY{n}") for n in range(1000))
    assert table.reads == 2


def test_a_tribe_added_elsewhere_is_known_within_the_interval():
    table, clock = Table(), Clock()
    registry = JurisdictionRegistry(table.read, refresh_seconds=2.0, clock=clock)
    assert not registry.knows("HOPI")
    table.codes.add("HOPI")  # another process adds it
    assert not registry.knows("HOPI")
    clock.now += 2.0
    assert registry.knows("HOPI")
    clock.now += 60.0
    assert registry.knows("HOPI") and table.reads == 2  # a known Tribe never costs a read again


def test_the_process_that_adds_a_tribe_knows_it_at_once():
    table, clock = Table(), Clock()
    registry = JurisdictionRegistry(table.read, refresh_seconds=2.0, clock=clock)
    assert not registry.knows("HOPI")
    registry.learn("HOPI")
    assert registry.knows("HOPI") and table.reads == 1


def test_threads_asking_at_once_share_one_read():
    """Gunicorn's threads asking for unknown codes together: one reads, the others wait for its answer."""
    release = threading.Event()
    table = Table("NAVAJO", delay=release)
    registry = JurisdictionRegistry(table.read, refresh_seconds=2.0)
    answers: list[bool] = []
    threads = [
        threading.Thread(target=lambda n=n: answers.append(registry.knows("NAVAJO" if n % 2 else f"ZZ{n}")))
        for n in range(25)
    ]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(10)
    assert table.reads == 1
    assert sorted(answers) == [False] * 13 + [True] * 12


def test_an_unreadable_table_is_unavailable_not_unknown_and_is_not_hammered():
    table, clock = Table(), Clock()
    registry = JurisdictionRegistry(table.read, refresh_seconds=2.0, clock=clock)
    table.down = True
    with pytest.raises(JurisdictionsUnavailable) as raised:
        registry.knows("HOPI")
    assert raised.value.retry_after == 2
    for n in range(100):
        with pytest.raises(JurisdictionsUnavailable):
            registry.knows(f"ZZ{n}")
    assert table.reads == 1 and registry.knows("CA")
    table.down, clock.now = False, clock.now + 2.0
    table.codes.add("HOPI")
    assert registry.knows("HOPI") and table.reads == 2


def test_a_code_with_a_trailing_newline_is_not_a_code():
    table = Table("HOPI")
    registry = JurisdictionRegistry(table.read)
    assert not registry.knows("CA\n") and not registry.knows("HOPI\n") and table.reads == 0
