"""Coaching's use cases: one module per family, each use case commits once (handlers' do not commit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Listing:
    """What a list endpoint pages through, as a use case decides it for the caller.

    ``statement``: the rows the caller may see (a select from the repository); ``order_by``: their
    order, ending in a unique column; ``updated_column`` and ``change_column``: what ``updated_since``
    and ``changed_after`` read (None: the list takes neither); ``present``: a page of rows as the caller
    sees them; ``as_csv``: a page of rows as CSV, for lists that answer in CSV too.
    """

    statement: Any
    order_by: tuple
    updated_column: Any = None
    change_column: Any = None
    present: Callable[[list], list] = list
    as_csv: Callable[[list], str] | None = None
