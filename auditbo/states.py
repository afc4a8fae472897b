"""Guarded state transitions: a table of allowed moves per enum; an illegal move raises."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from auditbo.errors import IllegalTransition


class Transitions:
    def __init__(self, moves: Mapping[enum.Enum, set[enum.Enum]]):
        self.moves = {k: frozenset(v) for k, v in moves.items()}

    def allowed(self, current: enum.Enum | None, target: enum.Enum) -> bool:
        return target in self.moves.get(current, frozenset())

    def check(self, current: enum.Enum | None, target: enum.Enum) -> None:
        if not self.allowed(current, target):
            cur = current.value if current is not None else "(new)"
            raise IllegalTransition(f"cannot move from {cur} to {target.value}")
