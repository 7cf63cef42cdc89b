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
MAX_LISTED = 40


def print_plan(console: Console, plan: Plan, target: str) -> None:
    """The dry run: every planned check, its cost, and what the budget leaves out."""
    table = Table(title=f"Plan for {target} (nothing sent)", show_lines=False)
    for column in ("operation", "check", "requests", "tokens", "paid calls", "skipped because"):
        table.add_column(column, justify="right" if column in ("requests", "tokens") else "left")
    for c in plan.checks:
        table.add_row(
            c.operation_id,
            c.check_id,
            str(c.requests),
            str(c.tokens),
            str(c.paid_calls),
            c.skip,
        )
    console.print(table)
    t = plan.totals()
    b = plan.budget
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


def print_summary(console: Console, record: RunRecord) -> None:
    """Counts per family and outcome, then the failing checks grouped by check and message."""
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
    bad = [pair for pair in judged if pair.outcome in FAILING]
    groups: dict[tuple[Outcome, str, str], list[str]] = defaultdict(list)
    for pair in bad:
        groups[(pair.outcome, pair.check_id, pair.lead.message)].append(pair.operation_id)
    if bad:
        console.print(
            f"[b]{len(bad)} checks failed or errored[/b], grouped by check and message "
            f"(details per request in the record and report.html):"
        )
    for (outcome, check_id, message), ops in list(groups.items())[:MAX_LISTED]:
        where = ", ".join(ops[:3]) + (f" and {len(ops) - 3} more" if len(ops) > 3 else "")
        console.print(
            f"  [{STYLE[outcome]}]{outcome.value}[/] {check_id} on {len(ops)} operation(s) "
            f"({where}): {message}",
            highlight=False,
        )
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
