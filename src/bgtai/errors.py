"""Errors that name the input and what was wrong with it."""

from __future__ import annotations

from dataclasses import dataclass


class BadInputError(ValueError):
    """One input (a file, an array, a row) that cannot be used, and why."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


@dataclass(frozen=True)
class BadItem:
    index: int
    source: str
    problem: str


class BadItemsError(ValueError):
    """A batch job found bad items; raised at the end, listing every one of them."""

    def __init__(self, bad: list[BadItem]) -> None:
        self.bad = bad
        lines = "\n".join(f"  [{b.index}] {b.source}: {b.problem}" for b in bad)
        super().__init__(f"{len(bad)} bad input(s):\n{lines}")
