"""What changed between two runs: new failures (the CI gate), fixes, skips, the conformance score
(overall and per family), latency, schema drift.

Pairs are (operation, check) verdicts, the worst outcome of each pair's findings. Latency compares
the p50 and p95 of each operation's request seconds; a regression must pass both the fractional
threshold and the absolute floor, so the jitter of fast requests is not news. Schema drift compares
the dotted response fields seen in 2xx bodies, only where both runs saw some.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reports.digest import FAILING, Pair, one_line, pairs, percentile, run_title
from reports.markdown import code, escape
from reports.rundir import load
from suites.findings import Outcome
from suites.record import RunRecord
from suites.score import Score

QUANTILES = (("p50", 0.5), ("p95", 0.95))
MD_ROWS = 100
"""Rows per section of the Markdown rendering (a CI step summary has a size limit)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One (operation, check) whose verdict moved; None stands for absent from that run."""

    operation_id: str
    check_id: str
    before: str | None
    after: str | None
    message: str
    """The current run's message for it (the baseline's when the check is gone)."""


@dataclass(frozen=True, slots=True)
class LatencyChange:
    """An operation whose request latency grew past the threshold and the floor."""

    operation_id: str
    before_ms: dict[str, float]
    after_ms: dict[str, float]
    regressed: tuple[str, ...]
    """Which quantiles (``p50``, ``p95``) regressed."""


@dataclass(frozen=True, slots=True)
class Drift:
    """Response fields of one operation that appeared or disappeared."""

    operation_id: str
    appeared: tuple[str, ...]
    disappeared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """The score of the run (``family`` ``all``) or of one family, before and after."""

    family: str
    before: dict[str, int]
    after: dict[str, int]

    @property
    def moved(self) -> bool:
        """True when any count changed."""
        return self.before != self.after

    def text(self) -> str:
        """``offered 2 -> 3, conformant 2 -> 1 (of 3)``: the counts that changed."""
        parts = []
        for name in SCORE_FIELDS:
            old, new = self.before.get(name, 0), self.after.get(name, 0)
            if old != new:
                of = f" (of {self.after.get('offered', 0)})" if name == "conformant" else ""
                parts.append(f"{name} {old} -> {new}{of}")
        return ", ".join(parts) or "unchanged"


SCORE_FIELDS = ("documented", "offered", "checked", "conformant", "strict")
ALL = "all"


@dataclass(slots=True)
class Diff:
    """Everything that changed from ``baseline`` to ``current``."""

    baseline: str
    current: str
    latency_threshold: float
    min_latency_ms: float
    new_failures: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    still_failing: list[Change] = field(default_factory=list)
    newly_skipped: list[Change] = field(default_factory=list)
    other_changes: list[Change] = field(default_factory=list)
    latency: list[LatencyChange] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    score: list[ScoreChange] = field(default_factory=list)
    """The run's score first (family ``all``, always), then each family whose score moved."""

    @property
    def has_regressions(self) -> bool:
        """True when a check fails or errors now that did not before: the CI gate."""
        return bool(self.new_failures)

    @property
    def nothing_new(self) -> bool:
        """True when nothing moved (checks failing in both runs are not news)."""
        return not (
            self.new_failures
            or self.fixed
            or self.newly_skipped
            or self.other_changes
            or self.latency
            or self.drift
            or any(s.moved for s in self.score)
        )

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the JSON rendering."""
        data = asdict(self)
        data["has_regressions"] = self.has_regressions
        data["nothing_new"] = self.nothing_new
        return data


def load_any(path: Path) -> RunRecord:
    """A run record from a record.json, a run dir or a ``latest`` pointer (else ValueError)."""
    return load(path)


def diff(
    baseline: RunRecord,
    current: RunRecord,
    latency_threshold: float = 0.5,
    min_latency_ms: float = 50.0,
) -> Diff:
    """Compare two runs; ``latency_threshold`` is fractional (0.5 = 50% slower)."""
    result = Diff(run_title(baseline), run_title(current), latency_threshold, min_latency_ms)
    before = {(p.operation_id, p.check_id): p for p in pairs(baseline)}
    after = {(p.operation_id, p.check_id): p for p in pairs(current)}
    for key, now in after.items():
        _classify(result, before.get(key), now)
    for key, gone in before.items():
        if key not in after:
            result.other_changes.append(
                Change(key[0], key[1], gone.outcome.value, None, gone.lead.message)
            )
    result.latency = _latency(baseline, current, latency_threshold, min_latency_ms)
    result.drift = _drift(baseline, current)
    result.score = _score(baseline, current)
    return result


def _score(baseline: RunRecord, current: RunRecord) -> list[ScoreChange]:
    before, after = baseline.score(), current.score()
    changes = [ScoreChange(ALL, asdict(before.overall), asdict(after.overall))]
    for family in sorted(set(before.families) | set(after.families)):
        old = asdict(before.families.get(family, Score()))
        new = asdict(after.families.get(family, Score()))
        if old != new:
            changes.append(ScoreChange(family, old, new))
    return changes


def _score_line(counts: dict[str, int]) -> str:
    return Score(**{k: counts.get(k, 0) for k in SCORE_FIELDS}).line()


def _classify(result: Diff, old: Pair | None, now: Pair) -> None:
    was = old.outcome if old is not None else None
    change = Change(
        now.operation_id,
        now.check_id,
        was.value if was else None,
        now.outcome.value,
        now.lead.message,
    )
    if now.outcome in FAILING:
        bucket = result.still_failing if was in FAILING else result.new_failures
    elif was in FAILING and now.outcome is Outcome.PASS:
        bucket = result.fixed
    elif now.outcome is Outcome.SKIP and was is not None and was is not Outcome.SKIP:
        bucket = result.newly_skipped
    elif was is not now.outcome:
        bucket = result.other_changes
    else:
        return
    bucket.append(change)


def _latency(
    baseline: RunRecord, current: RunRecord, threshold: float, floor_ms: float
) -> list[LatencyChange]:
    changes = []
    for op_id, now in current.operations.items():
        old = baseline.operations.get(op_id)
        if old is None or not old.latency or not now.latency:
            continue
        before_ms = {name: _ms(percentile(old.latency, q)) for name, q in QUANTILES}
        after_ms = {name: _ms(percentile(now.latency, q)) for name, q in QUANTILES}
        regressed = tuple(
            name
            for name, _ in QUANTILES
            if after_ms[name] > before_ms[name] * (1 + threshold)
            and after_ms[name] - before_ms[name] >= floor_ms
        )
        if regressed:
            changes.append(LatencyChange(op_id, before_ms, after_ms, regressed))
    return changes


def _ms(seconds: float | None) -> float:
    return round((seconds or 0.0) * 1000, 1)


def _drift(baseline: RunRecord, current: RunRecord) -> list[Drift]:
    drifts = []
    for op_id, now in current.operations.items():
        old = baseline.operations.get(op_id)
        if old is None or not old.fields or not now.fields:
            continue
        appeared = tuple(sorted(set(now.fields) - set(old.fields)))
        disappeared = tuple(sorted(set(old.fields) - set(now.fields)))
        if appeared or disappeared:
            drifts.append(Drift(op_id, appeared, disappeared))
    return drifts


def render_text(d: Diff) -> str:
    """The diff for a terminal or a CI log."""
    lines = [f"relaykit diff: {d.baseline} -> {d.current}"]
    for change in d.score[:1]:
        lines.append(f"score before: {_score_line(change.before)}")
        lines.append(f"score after:  {_score_line(change.after)}")
    families = d.score[1:]
    if families:
        lines.append(f"score per family ({len(families)} changed):")
        lines += [f"  {s.family}: {s.text()}" for s in families]
    for title, changes in _sections(d):
        lines.append(f"{title} ({len(changes)}):")
        for c in changes:
            lines.append(f"  {_arrow(c)}  {c.operation_id} {c.check_id}: {one_line(c.message)}")
    if d.latency:
        lines.append(f"latency regressions ({len(d.latency)}, {_limits(d)}):")
        for lat in d.latency:
            lines.append(f"  {lat.operation_id}: {_latency_text(lat)}")
    if d.drift:
        lines.append(f"schema drift ({len(d.drift)}):")
        for drift in d.drift:
            fields = [f"+{f}" for f in drift.appeared] + [f"-{f}" for f in drift.disappeared]
            lines.append(f"  {drift.operation_id}: {' '.join(fields)}")
    lines.append(_verdict(d))
    return "\n".join(lines) + "\n"


def render_markdown(d: Diff) -> str:
    """The diff as Markdown (a CI step summary or a pull-request comment)."""
    lines = [f"## relaykit diff: {escape(d.baseline, 120)} → {escape(d.current, 120)}", ""]
    lines += [f"**{escape(_verdict(d))}**", ""]
    if d.score:
        lines += ["| score | before | after |", "|---|---|---|"]
        overall = d.score[0]
        lines.append(f"| all | {_score_line(overall.before)} | {_score_line(overall.after)} |")
        for sc in d.score[1:]:
            before, after = _score_line(sc.before), _score_line(sc.after)
            lines.append(f"| {code(sc.family)} | {before} | {after} |")
        lines.append("")
    for title, changes in _sections(d):
        lines += [f"### {title} ({len(changes)})", "", "| | operation | check | message |"]
        lines.append("|---|---|---|---|")
        for c in changes[:MD_ROWS]:
            lines.append(
                f"| {_arrow(c, '→')} | {code(c.operation_id)} | {code(c.check_id)} "
                f"| {escape(c.message)} |"
            )
        if len(changes) > MD_ROWS:
            lines.append(f"\n… and {len(changes) - MD_ROWS} more (see the text or JSON diff).")
        lines.append("")
    if d.latency:
        lines += [f"### Latency regressions ({len(d.latency)}, {_limits(d)})", ""]
        lines += ["| operation | p50 ms | p95 ms | regressed |", "|---|---|---|---|"]
        for lat in d.latency:
            p50, p95 = (f"{lat.before_ms[q]} → {lat.after_ms[q]}" for q in ("p50", "p95"))
            lines.append(
                f"| {code(lat.operation_id)} | {p50} | {p95} | {', '.join(lat.regressed)} |"
            )
        lines.append("")
    if d.drift:
        lines += [f"### Schema drift ({len(d.drift)})", ""]
        lines += ["| operation | appeared | disappeared |", "|---|---|---|"]
        for drift in d.drift:
            appeared = ", ".join(code(f) for f in drift.appeared) or "–"
            gone = ", ".join(code(f) for f in drift.disappeared) or "–"
            lines.append(f"| {code(drift.operation_id)} | {appeared} | {gone} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_json(d: Diff) -> str:
    """The diff as JSON, for tools."""
    return json.dumps(d.to_json(), indent=1, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[Diff], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}


def _sections(d: Diff) -> list[tuple[str, list[Change]]]:
    named = [
        ("new failures", d.new_failures),
        ("fixed", d.fixed),
        ("newly skipped", d.newly_skipped),
        ("other changes", d.other_changes),
        ("still failing", d.still_failing),
    ]
    return [(title, changes) for title, changes in named if changes]


def _arrow(c: Change, sep: str = "->") -> str:
    return f"{c.before or 'absent'} {sep} {c.after or 'absent'}"


def _limits(d: Diff) -> str:
    return f"over +{d.latency_threshold:.0%} and +{d.min_latency_ms:g} ms"


def _latency_text(lat: LatencyChange) -> str:
    parts = []
    for name in lat.regressed:
        before, after = lat.before_ms[name], lat.after_ms[name]
        growth = f" (+{(after - before) / before:.0%})" if before else ""
        parts.append(f"{name} {before} -> {after} ms{growth}")
    return ", ".join(parts)


def _verdict(d: Diff) -> str:
    counts = (
        f"{len(d.new_failures)} new failure(s), {len(d.fixed)} fixed, "
        f"{len(d.still_failing)} still failing, {len(d.newly_skipped)} newly skipped, "
        f"{len(d.other_changes)} other change(s), {len(d.latency)} latency regression(s), "
        f"{len(d.drift)} operation(s) with schema drift"
    )
    if d.nothing_new:
        return f"nothing new ({len(d.still_failing)} still failing)"
    return ("REGRESSED: " if d.has_regressions else "") + counts
