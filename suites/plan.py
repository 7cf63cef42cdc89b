"""The plan of a run, computed before anything is sent: requests, tokens and paid calls.

Checks are planned in the order of what a relay's users rely on: the documented examples of
the core (the model list, chat, a chat stream with usage, tools, embeddings), then the other
examples, the negative requests, the property-based ones and schemathesis, each family in
turn. The budget's caps are applied in that order, so a small budget still checks the core:
whatever does not fit is planned as a skip with the reason, and so is every check of an
operation the relay does not offer (discovery: its route, or the model it needs). A dry run
shows exactly what a real run would send, with which model, and what it would leave out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from suites.discovery import Discovery
from suites.model_choice import ModelChoice, choose_all
from suites.profile import Budget, Profile
from suites.properties import varied_fields

MEDIA_UNITS = {"image", "audio", "video", "music"}
NEGATIVE_REQUESTS = 5
"""Malformed JSON, a missing required field, a wrong type, no key, a wrong key."""


RUN_ORDER = {"examples": 0, "negative": 1, "property": 2, "schemathesis": 3}
"""Within an operation: examples first (a 404 there marks it unsupported), then the rest."""
CORE = (
    "openai.models.list",
    "openai.chat.completions.nonstream",
    "openai.chat.completions.stream",
    "openai.chat.function_calling.official",
    "openai.embeddings",
)
"""What nearly every client of a relay relies on: planned first, whatever the budget."""


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
    """Every planned check, most valuable first (the budget was applied in this order)."""

    checks: list[PlannedCheck] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)
    offers: dict[str, ModelChoice] = field(default_factory=dict)
    """Per operation: the model it is checked with, or why the relay does not offer it."""
    discovery: Discovery | None = None
    """What the relay said it offers (None: not asked, e.g. the embedded mock)."""

    def not_offered(self, op_id: str) -> str:
        """Why the relay does not offer the operation, or ""."""
        offer = self.offers.get(op_id)
        return offer.not_offered if offer is not None else ""

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
    polls = 10 if op.task_role == "submit" else 0
    checks.append(PlannedCheck(op.id, "examples", examples + polls * examples, tokens, paid))
    if property_examples and not op.cost.paid:  # schemathesis: free operations only
        checks.append(PlannedCheck(op.id, "schemathesis", property_examples, 0, 0))
    if property_examples and varied_fields(op, validators):
        tokens, paid = _example_cost(op, property_examples)
        checks.append(PlannedCheck(op.id, "property", property_examples, tokens, paid))
    return checks


def value_order(contracts: ContractSet) -> Callable[[PlannedCheck], tuple[int, int, int]]:
    """Sort key: the core's examples, other examples, negatives, property, schemathesis; within
    each, family by family in catalogue order (the core in CORE's order)."""
    families: dict[str, int] = {}
    position: dict[str, tuple[int, int]] = {}
    for i, op in enumerate(contracts):
        position[op.id] = (families.setdefault(op.family, len(families)), i)

    def key(c: PlannedCheck) -> tuple[int, int, int]:
        if c.check_id == "examples" and c.operation_id in CORE:
            return (0, 0, CORE.index(c.operation_id))
        tier = 1 + RUN_ORDER.get(c.check_id, len(RUN_ORDER))
        return (tier, *position.get(c.operation_id, (len(families), 0)))

    return key


def make_plan(
    contracts: ContractSet,
    profile: Profile,
    only: Iterable[str] = (),
    property_examples: int = 3,
    discovery: Discovery | None = None,
) -> Plan:
    """Plan a run: every selected operation's checks, most valuable first, capped by the
    budget (less what discovery already sent); not-offered operations planned as skips."""
    validators = Validators(contracts.components)
    operations = selected(contracts, profile, only)
    offers = choose_all(contracts, operations, profile, discovery)
    if discovery is not None:
        for op in operations:
            route = discovery.route_not_offered(op)
            if route:
                offers[op.id] = ModelChoice(not_offered=route)
    candidates = [
        c for op in operations for c in candidate_checks(op, property_examples, validators)
    ]
    candidates.sort(key=value_order(contracts))
    budget = profile.budget
    plan = Plan(budget=budget, offers=offers, discovery=discovery)
    spent = {"requests": discovery.requests if discovery else 0, "tokens": 0, "paid_calls": 0}
    for c in candidates:
        reason = offers[c.operation_id].not_offered or _over_budget(c, spent, budget)
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


def _over_budget(c: PlannedCheck, spent: dict[str, int], budget: Budget) -> str:
    """Which cap the check would go over, or ""."""
    if c.paid_calls and spent["paid_calls"] + c.paid_calls > budget.paid_media_calls:
        return f"budget: paid media calls ({budget.paid_media_calls} allowed)"
    if spent["tokens"] + c.tokens > budget.tokens:
        return f"budget: tokens ({budget.tokens} allowed)"
    if spent["requests"] + c.requests > budget.requests:
        return f"budget: requests ({budget.requests} allowed)"
    return ""
