"""The plan of a run, computed before anything is sent: requests, tokens and paid calls.

Checks are planned cheapest first (free negatives, then token calls, then paid media), and the
budget's caps are applied in that order: whatever does not fit is planned as a skip with the
reason, so a dry run shows exactly what a real run would send and what it would leave out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from suites.profile import Budget, Profile
from suites.properties import varied_fields

MEDIA_UNITS = {"image", "audio", "video", "music"}
NEGATIVE_REQUESTS = 5
"""Malformed JSON, a missing required field, a wrong type, no key, a wrong key."""


RUN_ORDER = {"examples": 0, "negative": 1, "property": 2, "schemathesis": 3}
"""Within an operation: examples first (a 404 there marks it unsupported), then the rest."""


def in_run_order(checks: Iterable[PlannedCheck]) -> list[PlannedCheck]:
    """The checks of an operation in the order a run sends them."""
    return sorted(checks, key=lambda c: RUN_ORDER.get(c.check_id, len(RUN_ORDER)))


@dataclass(frozen=True, slots=True)
class PlannedCheck:
    """One check of one operation and what it will cost; ``skip`` says why it will not run."""

    operation_id: str
    check_id: str
    requests: int
    tokens: int
    paid_calls: int
    skip: str = ""


@dataclass(slots=True)
class Plan:
    """Every planned check, in the order a run sends them."""

    checks: list[PlannedCheck] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)

    def to_run(self) -> list[PlannedCheck]:
        """The checks that fit the budget."""
        return [c for c in self.checks if not c.skip]

    def totals(self) -> dict[str, int]:
        """What the checks that will run cost, summed."""
        run = self.to_run()
        return {
            "checks": len(run),
            "skipped": len(self.checks) - len(run),
            "requests": sum(c.requests for c in run),
            "tokens": sum(c.tokens for c in run),
            "paid_calls": sum(c.paid_calls for c in run),
        }


def selected(contracts: ContractSet, profile: Profile, only: Iterable[str] = ()) -> list[Operation]:
    """The operations a run covers: the profile's families, narrowed by --only (family or id)."""
    wanted = set(only)
    return [
        op
        for op in contracts
        if profile.wants_family(op.family)
        and (not wanted or op.family in wanted or op.id in wanted)
    ]


def _example_cost(op: Operation, calls: int) -> tuple[int, int]:
    tokens = int(op.cost.estimate * calls) if op.cost.paid and op.cost.unit == "tokens" else 0
    paid = calls if op.cost.paid and op.cost.unit in MEDIA_UNITS else 0
    return tokens, paid


def candidate_checks(
    op: Operation, property_examples: int, validators: Validators
) -> list[PlannedCheck]:
    """What relaykit would run for an operation, before the budget (property-based requests
    only where the invariants have parameters to vary)."""
    examples = max(1, sum(1 for e in op.request.examples if e.servable))
    checks = [PlannedCheck(op.id, "negative", NEGATIVE_REQUESTS, 0, 0)]
    tokens, paid = _example_cost(op, examples)
    polls = 10 if op.task and op.task.get("role") == "submit" else 0
    checks.append(PlannedCheck(op.id, "examples", examples + polls * examples, tokens, paid))
    if property_examples and not op.cost.paid:  # schemathesis: free operations only
        checks.append(PlannedCheck(op.id, "schemathesis", property_examples, 0, 0))
    if property_examples and varied_fields(op, validators):
        tokens, paid = _example_cost(op, property_examples)
        checks.append(PlannedCheck(op.id, "property", property_examples, tokens, paid))
    return checks


def make_plan(
    contracts: ContractSet, profile: Profile, only: Iterable[str] = (), property_examples: int = 3
) -> Plan:
    """Plan a run: every selected operation's checks, cheapest first, capped by the budget."""
    validators = Validators(contracts.components)
    candidates = [
        c
        for op in selected(contracts, profile, only)
        for c in candidate_checks(op, property_examples, validators)
    ]
    candidates.sort(key=lambda c: (c.paid_calls > 0, c.tokens > 0, c.check_id != "negative"))
    budget = profile.budget
    plan = Plan(budget=budget)
    spent = {"requests": 0, "tokens": 0, "paid_calls": 0}
    for c in candidates:
        reason = ""
        if c.paid_calls and spent["paid_calls"] + c.paid_calls > budget.paid_media_calls:
            reason = f"budget: paid media calls ({budget.paid_media_calls} allowed)"
        elif spent["tokens"] + c.tokens > budget.tokens:
            reason = f"budget: tokens ({budget.tokens} allowed)"
        elif spent["requests"] + c.requests > budget.requests:
            reason = f"budget: requests ({budget.requests} allowed)"
        if reason:
            plan.checks.append(
                PlannedCheck(c.operation_id, c.check_id, c.requests, c.tokens, c.paid_calls, reason)
            )
            continue
        spent["requests"] += c.requests
        spent["tokens"] += c.tokens
        spent["paid_calls"] += c.paid_calls
        plan.checks.append(c)
    return plan
