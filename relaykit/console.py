"""What `relaykit check` prints: the plan of a dry run, progress per operation, the summary.

Rendering is rich's (tables, colours only on a terminal); the numbers all come from the plan
and the run record, so the console says nothing the record does not.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.table import Table

from contracts.model import Operation
from reports.digest import FAILING, pairs
from suites.causes import Cause
from suites.discovery import Discovery
from suites.findings import Finding, Outcome, combine
from suites.plan import Plan
from suites.record import RunRecord

STYLE = {
    Outcome.PASS: "green",
    Outcome.FAIL: "red",
    Outcome.ERROR: "magenta",
    Outcome.SKIP: "dim",
    Outcome.INCONCLUSIVE: "yellow",
}
LABEL_STYLE = {"breaks-clients": "red", "deviates": "yellow", "error": "magenta"}
MAX_LISTED = 40
"""Causes listed; the rest are counted."""


def print_discovery(console: Console, found: Discovery) -> None:
    """What discovery learned: the models the relay lists and the routes it offers."""
    routes = found.routes.values()
    offered = sum(1 for v in routes if v.offered is not False)
    unknown = sum(1 for v in routes if v.offered is None)
    models = found.models_note
    if found.models is not None:
        shown = ", ".join(found.models[:12]) + (" ..." if len(found.models) > 12 else "")
        models += f": {shown}"
    console.print(f"Discovery ({found.requests} free requests): {models}")
    line = f"  routes: {offered} of {len(found.routes)} documented routes offered"
    if unknown:
        line += f" ({unknown} could not be told, checked as offered)"
    console.print(f"{line}; {found.control}")


def print_plan(console: Console, plan: Plan, target: str) -> None:
    """The dry run: every planned check in the order it is sent (most valuable first), the
    model it uses, its cost, and what the budget or the relay's offer leaves out."""
    title = f"Plan for {target} (nothing sent but discovery)"
    if plan.discovery is None:
        title = f"Plan for {target} (nothing sent)"
    table = Table(title=title, show_lines=False)
    columns = (
        "#",
        "operation",
        "check",
        "model",
        "requests",
        "tokens",
        "paid calls",
        "skipped because",
    )
    for column in columns:
        table.add_column(
            column, justify="right" if column in ("#", "requests", "tokens") else "left"
        )
    for i, c in enumerate(plan.checks, 1):
        offer = plan.offers.get(c.operation_id)
        model = offer.model if offer is not None else ""
        if offer is not None and offer.note.startswith("subst"):
            model += f" ({offer.note})"
        table.add_row(
            str(i),
            c.operation_id,
            c.check_id,
            model,
            str(c.requests),
            str(c.tokens),
            str(c.paid_calls),
            c.skip,
        )
    console.print(table)
    t = plan.totals()
    b = plan.budget
    unoffered = sum(1 for o in plan.offers.values() if o.not_offered)
    if unoffered:
        console.print(f"{unoffered} of {len(plan.offers)} operations are not offered by the relay.")
    console.print(
        f"{t['checks']} checks would run, {t['skipped']} skipped; they would send "
        f"{t['requests']} requests (budget {b.requests}), about {t['tokens']} tokens "
        f"(budget {b.tokens}) and {t['paid_calls']} paid media calls "
        f"(budget {b.paid_media_calls}). Polls and retries may add requests, never past the caps."
    )


def progress_line(
    console: Console, done: int, total: int, op: Operation, found: list[Finding]
) -> None:
    """One line per checked operation: its worst outcome and the counts per outcome."""
    per_check: dict[str, list[Outcome]] = defaultdict(list)
    for f in found:
        per_check[f.check_id].append(f.outcome)
    verdicts = Counter(combine(v) for v in per_check.values())
    worst = combine(list(verdicts))
    counts = ", ".join(f"{n} {o.value}" for o, n in sorted(verdicts.items()))
    console.print(
        f"[{done:>3}/{total}] [{STYLE[worst]}]{worst.value:<12}[/] {op.id}  ({counts})",
        highlight=False,
    )


def print_summary(console: Console, record: RunRecord, strict: bool = False) -> None:
    """Counts per family and outcome, the score, then the failures grouped by cause: what
    fails the run first (errors, breaks-clients), the most operations first."""
    judged = pairs(record)
    table = Table(title="Summary: one outcome per operation and check")
    table.add_column("family")
    for o in Outcome:
        table.add_column(o.value, justify="right", style=STYLE[o])
    per_family: dict[str, Counter[Outcome]] = defaultdict(Counter)
    for pair in judged:
        per_family[pair.family][pair.outcome] += 1
    for family, counts in per_family.items():
        table.add_row(family, *(str(counts.get(o, 0) or "") for o in Outcome))
    total = Counter(pair.outcome for pair in judged)
    table.add_row("[b]all[/b]", *(f"[b]{total.get(o, 0)}[/b]" for o in Outcome))
    console.print(table)
    _print_causes(console, record.causes(), sum(p.outcome in FAILING for p in judged), strict)
    skipped = Counter(
        pair.lead.message.split(":")[0] for pair in judged if pair.outcome is Outcome.SKIP
    )
    if skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in skipped.most_common(6))
        console.print(f"Skipped (not run, never counted as pass): {reasons}")
    spent = record.spent
    console.print(
        f"Spent {spent.get('requests', 0)} requests, {spent.get('tokens', 0)} tokens, "
        f"{spent.get('paid_calls', 0)} paid media calls in {record.run.get('seconds', 0)} s."
    )
    score = record.score().overall
    console.print(f"[b]Score:[/b] {score.line()}", highlight=False)
    for caveat in score.caveats():
        console.print(f"  {caveat}", highlight=False)


def _print_causes(console: Console, causes: list[Cause], failing: int, strict: bool) -> None:
    """One line per cause: its label, check, how many operations and requests, the lead
    message, and the checks it also fails on the same answers."""
    if not causes:
        return
    console.print(
        f"[b]{failing} checks failed or errored, from {len(causes)} cause(s)[/b] "
        "(what fails the run first, then the most operations; every request in report.html):"
    )
    for cause in causes[:MAX_LISTED]:
        n = len(cause.operations)
        requests = f", {cause.requests} requests" if cause.requests > n else ""
        console.print(
            f"  [{LABEL_STYLE[cause.label]}]{cause.label}[/] {cause.check_id} on {n} "
            f"operation(s) ({cause.where()}){requests}: {cause.message}",
            highlight=False,
        )
        if cause.also_fails:
            console.print(f"      {cause.also_line()}", highlight=False)
    if len(causes) > MAX_LISTED:
        console.print(f"  ... and {len(causes) - MAX_LISTED} more causes (see summary.md)")
    deviating = sum(1 for c in causes if not c.counts)
    if deviating and not strict:
        console.print(
            f"{deviating} cause(s) only deviate: they do not fail the run (--strict counts them).",
            highlight=False,
        )
