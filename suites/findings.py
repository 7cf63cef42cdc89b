"""What a check concludes: one of five outcomes, with the evidence a person needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """Every check ends as exactly one of these; only PASS counts as conforming."""

    PASS = "pass"
    """It ran and held."""
    FAIL = "fail"
    """It ran and did not hold."""
    ERROR = "error"
    """The harness or the transport broke."""
    SKIP = "skip"
    """Not run, with the reason (budget, unsupported, excluded, needs a paid call)."""
    INCONCLUSIVE = "inconclusive"
    """It ran but the evidence cannot decide."""


@dataclass(slots=True)
class Finding:
    """One check's result for one operation."""

    operation_id: str
    check_id: str
    outcome: Outcome
    message: str
    request: dict[str, Any] | None = None
    response_excerpt: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def verdict(findings: list[Finding], check_id: str) -> Outcome:
    """The outcome of one check id over its findings: any fail or error wins, then pass."""
    mine = [f.outcome for f in findings if f.check_id == check_id]
    for outcome in (Outcome.ERROR, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.PASS):
        if outcome in mine:
            return outcome
    return Outcome.SKIP
