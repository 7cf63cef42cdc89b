"""The run record as a Markdown summary, fit for ``$GITHUB_STEP_SUMMARY``.

Counts per outcome, the score (offered, checked, conformant operations), a table per operation
family, the failures grouped by cause (the first ``MAX_LISTED``; what fails the run first, then
the most operations), the inconclusive checks, and skips grouped by reason. Record text is
escaped so that a relay's answer cannot inject Markdown or HTML.
"""

from __future__ import annotations

import re
from collections import defaultdict

from reports.digest import FAILING, OUTCOMES, Pair, count, one_line, pairs, run_title
from suites.causes import Cause
from suites.findings import Outcome
from suites.record import RunRecord
from suites.score import RunScore, Score

MAX_LISTED = 50
"""Rows of causes (and of inconclusive checks) listed; the rest are counted."""
MAX_OPERATIONS = 5
"""Operations named per cause; the rest are counted."""
MAX_SKIP_REASONS = 30
MAX_SKIP_CHECKS = 8
"""Checks named per skip reason; the rest are counted."""
ICONS = {"pass": "✅", "fail": "❌", "error": "💥", "skip": "⏭️", "inconclusive": "❔"}
LABEL_ICONS = {"breaks-clients": "❌", "deviates": "⚠️", "error": "💥"}
_SPECIAL = re.compile(r"([\\`*_{}\[\]|#!~])")


def escape(text: str, limit: int = 300) -> str:
    """One line of record text made inert in Markdown (and in a table cell)."""
    # Entities, not backslashes, for angle brackets: no raw "<" can reach a Markdown renderer.
    escaped = _SPECIAL.sub(r"\\\1", one_line(text, limit))
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """An identifier as inline code (backticks in it cannot close the span early)."""
    clean = one_line(text, 200).replace("`", "'").replace("|", "\\|")
    return f"`{clean}`"


def render(record: RunRecord) -> str:
    """The Markdown summary of one run."""
    all_pairs = pairs(record)
    tally = count(p.outcome for p in all_pairs)
    lines = [f"## relaykit: {escape(run_title(record), 120)}", ""]
    lines += _run_line(record)
    lines.append(
        " · ".join(f"{ICONS[o]} **{o}** {tally[o]}" for o in tally)
        + f" — {len(all_pairs)} checks from {len(record.findings)} findings"
    )
    lines.append("")
    score = record.score()
    lines += _score_lines(score.overall)
    if not all_pairs:
        lines += ["No check ran.", ""]
        return "\n".join(lines)
    lines += _family_table(all_pairs, score)
    failing = sum(1 for p in all_pairs if p.outcome in FAILING)
    lines += _causes(record.causes(), failing)
    lines += _listed(
        "Inconclusive (not a pass)", [p for p in all_pairs if p.outcome is Outcome.INCONCLUSIVE]
    )
    lines += _skips([p for p in all_pairs if p.outcome is Outcome.SKIP])
    return "\n".join(lines).rstrip() + "\n"


def _run_line(record: RunRecord) -> list[str]:
    run = record.run
    parts = [
        f"{label} {escape(str(run[key]), 120)}"
        for key, label in (("target", "target"), ("base_url", "at"), ("started", "started"))
        if run.get(key)
    ]
    if run.get("seconds") is not None:
        parts.append(f"{run['seconds']} s")
    return [" · ".join(parts), ""] if parts else []


def _score_lines(score: Score) -> list[str]:
    lines = [f"**Score:** {score.line()}"]
    lines += [f"> {escape(caveat)}" for caveat in score.caveats()]
    return [*lines, ""] if len(lines) == 1 else [lines[0], "", *lines[1:], ""]


def _family_table(all_pairs: list[Pair], score: RunScore) -> list[str]:
    by_family: dict[str, list[Pair]] = defaultdict(list)
    for pair in all_pairs:
        by_family[pair.family].append(pair)
    head = [o.value for o in OUTCOMES]
    lines = [
        "| family | " + " | ".join(head) + " | offered | conformant |",
        "|---|" + "---:|" * (len(head) + 2),
    ]
    for family in sorted(set(by_family) | set(score.families)):
        tally = count(p.outcome for p in by_family.get(family, []))
        s = score.families.get(family, Score())
        lines.append(
            f"| {escape(family, 80)} | "
            + " | ".join(str(tally[o]) for o in head)
            + f" | {s.offered} of {s.documented} | {s.conformant} of {s.offered} |"
        )
    return [*lines, ""]


def _causes(causes: list[Cause], failing: int) -> list[str]:
    if not causes:
        return []
    shown = causes[:MAX_LISTED]
    heading = f"### Causes ({len(causes)}) of {failing} failed or errored checks"
    if len(causes) > len(shown):
        heading += f", first {len(shown)}"
    lines = [
        heading,
        "",
        "What fails the run first (errors, `breaks-clients`), then the most operations; "
        "`deviates` counts only with `--strict`.",
        "",
        "| | check | operations | message |",
        "|---|---|---|---|",
    ]
    for cause in shown:
        ops = cause.operations
        named = ", ".join(code(op) for op in ops[:MAX_OPERATIONS])
        more = f" and {len(ops) - MAX_OPERATIONS} more" if len(ops) > MAX_OPERATIONS else ""
        requests = f", {cause.requests} requests" if cause.requests > len(ops) else ""
        also = f" — {escape(cause.also_line())}" if cause.also_fails else ""
        lines.append(
            f"| {LABEL_ICONS[cause.label]} {cause.label} | {code(cause.check_id)} "
            f"| {len(ops)}{requests}: {named}{more} | {escape(cause.message)}{also} |"
        )
    if len(causes) > len(shown):
        lines.append(f"\n… and {len(causes) - len(shown)} more (see the HTML report).")
    return [*lines, ""]


def _listed(title: str, chosen: list[Pair]) -> list[str]:
    if not chosen:
        return []
    shown = chosen[:MAX_LISTED]
    heading = f"### {title} ({len(chosen)})"
    if len(chosen) > len(shown):
        heading += f", first {len(shown)}"
    lines = [heading, "", "| | operation | check | message |", "|---|---|---|---|"]
    for pair in shown:
        n = len(pair.with_outcome(pair.outcome))
        extra = f" ({n} of {len(pair.findings)} requests)" if len(pair.findings) > 1 else ""
        lines.append(
            f"| {ICONS[pair.outcome.value]} {pair.outcome.value} | {code(pair.operation_id)} "
            f"| {code(pair.check_id)} | {escape(pair.lead.message)}{extra} |"
        )
    if len(chosen) > len(shown):
        lines.append(f"\n… and {len(chosen) - len(shown)} more (see the HTML report).")
    return [*lines, ""]


def _skips(skipped: list[Pair]) -> list[str]:
    if not skipped:
        return []
    by_reason: dict[str, list[Pair]] = defaultdict(list)
    for pair in skipped:
        by_reason[one_line(pair.lead.message, 200) or "no reason given"].append(pair)
    reasons = sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = [f"### Skipped ({len(skipped)}), by reason", ""]
    for reason, members in reasons[:MAX_SKIP_REASONS]:
        named = ", ".join(code(f"{p.operation_id} {p.check_id}") for p in members[:MAX_SKIP_CHECKS])
        hidden = len(members) - MAX_SKIP_CHECKS
        more = f" and {hidden} more" if hidden > 0 else ""
        lines.append(f"- **{escape(reason)}** ({len(members)}): {named}{more}")
    if len(reasons) > MAX_SKIP_REASONS:
        lines.append(f"- … and {len(reasons) - MAX_SKIP_REASONS} more reasons")
    return [*lines, ""]
