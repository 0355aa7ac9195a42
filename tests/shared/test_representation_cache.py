"""The per-process representation cache: a page larger than what the cache holds, and many threads at once."""

from __future__ import annotations

import random
import threading
from types import SimpleNamespace

from shared.http.representations import RepresentationCache


def rows(ids, version=1):
    return [SimpleNamespace(id=i, updated_at=version) for i in ids]


def load(ids):
    return {i: {"id": i, "title": f"session {i}"} for i in ids}


def served(items) -> list:
    return [item["id"] for item in items]


def test_a_page_larger_than_the_cache_is_served_whole():
    cache = RepresentationCache(maxsize=3)
    assert served(cache.items(rows(range(10)), load)) == list(range(10))
    assert len(cache._entries) == 3
    assert served(cache.items(rows(range(5, 15)), load)) == list(range(5, 15))


def test_threads_sharing_one_cache_each_get_their_own_page():
    cache = RepresentationCache(maxsize=50)
    failures = []

    def reader(seed: int):
        chance = random.Random(seed)
        try:
            for _ in range(300):
                start = chance.randrange(0, 500)
                ids = list(range(start, start + chance.randrange(1, 60)))
                version = chance.choice((1, 2))
                if served(cache.items(rows(ids, version), load)) != ids:
                    failures.append(ids)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(cache._entries) <= 50


def test_items_filled_together_expire_at_different_times_within_the_ttl(monkeypatch):
    """A page's items are filled at one moment; they expire spread over ttl/2..ttl, never all at once."""
    from shared.http import representations

    clock = [1000.0]
    monkeypatch.setattr(representations, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    page = rows(range(200))

    def rendered_again(cache, at: float) -> int:
        """How many of the page's items, filled at 1000 s, are rendered again when asked at ``at``."""
        loaded = []

        def counting_load(ids):
            loaded.extend(ids)
            return load(ids)

        clock[0] = at
        assert served(cache.items(page, counting_load)) == list(range(200))
        return len(loaded)

    for at, expected in ((1029.9, lambda n: n == 0), (1045.0, lambda n: 0 < n < 200), (1060.1, lambda n: n == 200)):
        cache = RepresentationCache(ttl=60.0, maxsize=1000)
        assert rendered_again(cache, 1000.0) == 200
        assert expected(rendered_again(cache, at)), at
