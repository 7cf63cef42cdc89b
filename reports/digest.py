"""What every renderer reads off a run record: verdict pairs, families, evidence lines, percentiles.

A *pair* is one (operation, check) with all its findings; its outcome is the worst of theirs
(``suites.findings.combine``), the same verdict ``RunRecord.verdicts`` and ``summary`` count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from suites.findings import Finding, Outcome, combine
from suites.record import RunRecord

OUTCOMES = tuple(Outcome)
"""Display order: pass, fail, error, skip, inconclusive."""
FAILING = frozenset({Outcome.FAIL, Outcome.ERROR})
UNKNOWN_FAMILY = "unknown"
_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(slots=True)
class Pair:
    """One (operation, check) and its findings, in the order the run produced them."""

    operation_id: str
    check_id: str
    family: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """The worst outcome among the findings."""
        return combine([f.outcome for f in self.findings])

    @property
    def lead(self) -> Finding:
        """The first finding whose outcome is the pair's verdict: the one a reader sees first."""
        verdict = self.outcome
        return next(f for f in self.findings if f.outcome == verdict)

    @property
    def check_family(self) -> str:
        """The check id up to its first dot."""
        return check_family(self.check_id)

    @property
    def elapsed(self) -> float:
        """Seconds spent on the pair's requests, summed."""
        return sum(float(f.timings.get("elapsed", 0.0) or 0.0) for f in self.findings)

    def with_outcome(self, outcome: Outcome) -> list[Finding]:
        """The findings that ended in ``outcome``."""
        return [f for f in self.findings if f.outcome == outcome]


def check_family(check_id: str) -> str:
    """``response.schema`` -> ``response``; an id without a dot is its own family."""
    return check_id.split(".", 1)[0]


def family_of(record: RunRecord, operation_id: str) -> str:
    """The operation's family, or ``unknown`` when the record does not describe it."""
    info = record.operations.get(operation_id)
    return info.family if info is not None and info.family else UNKNOWN_FAMILY


def pairs(record: RunRecord) -> list[Pair]:
    """Every (operation, check) of the run, in first-seen order."""
    grouped: dict[tuple[str, str], Pair] = {}
    for f in record.findings:
        key = (f.operation_id, f.check_id)
        if key not in grouped:
            grouped[key] = Pair(f.operation_id, f.check_id, family_of(record, f.operation_id))
        grouped[key].findings.append(f)
    return list(grouped.values())


def count(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many of each outcome, every outcome present (zero when absent)."""
    tally = dict.fromkeys((o.value for o in OUTCOMES), 0)
    for outcome in outcomes:
        tally[outcome.value] += 1
    return tally


def run_title(record: RunRecord) -> str:
    """A short name for the run: its name, else its target, else its start time."""
    run = record.run
    return str(run.get("name") or run.get("target") or run.get("started") or "run")


def request_line(finding: Finding) -> str:
    """``POST https://relay/v1/chat/completions`` or empty when no request was sent."""
    request = finding.request or {}
    return f"{request.get('method', '')} {request.get('url', '')}".strip()


def response_line(finding: Finding) -> str:
    """``-> 400`` or ``-> transport error: ...`` or empty when nothing came back."""
    response = finding.response
    if not response:
        return ""
    if response.get("error"):
        return f"-> {response.get('status') or 'no status'}: {response['error']}"
    return f"-> {response.get('status')}"


def as_text(value: Any) -> str:
    """A body or header map as readable text (JSON indented when it is not a string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace folded to single spaces and cut to ``limit`` characters."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def xml_safe(text: str) -> str:
    """Characters XML 1.0 cannot hold (NUL and most control characters) replaced by U+FFFD."""
    return _XML_BAD.sub("\ufffd", text)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile (0..1), linear between closest ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
