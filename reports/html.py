"""The run record as one self-contained HTML page: summary and score, the failures grouped by
cause, family x check matrix, verdicts, detail.

No CDN, no external file: CSS and JS are inline, so the page works offline and as a CI artefact.
Jinja2 autoescapes everything the record holds. The evidence of a request (request, response,
stream timeline) is rendered once, in a ``<template>``, however many findings share it, and is
put into a finding's ``<details>`` when it is opened: nine stream checks of one request cost one
timeline, which keeps a 2000-finding run to a few MB.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from reports.digest import (
    OUTCOMES,
    Pair,
    as_text,
    count,
    one_line,
    pairs,
    run_title,
)
from suites.causes import Cause
from suites.findings import SEVERITY, Finding, Outcome, combine
from suites.record import RunRecord
from suites.severity import severity_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEXT_CAP = 4000
"""Characters of a body or excerpt shown (the record already bounds them; this is a backstop)."""
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_ORDER = {o: i for i, o in enumerate(SEVERITY)}


@dataclass(slots=True)
class _Evidence:
    """What one request sent and got back, shared by every finding it produced."""

    id: int
    request: dict[str, str]
    response: dict[str, str]
    events: list[dict[str, str]]


@dataclass(slots=True)
class _Pool:
    """Evidence blocks, de-duplicated by content."""

    blocks: list[_Evidence] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(self, finding: Finding) -> int | None:
        """The id of the finding's evidence block (new or shared); None when it has none."""
        if not (finding.request or finding.response or finding.events):
            return None
        raw = [finding.request, finding.response, finding.events]
        key = hashlib.sha1(
            json.dumps(raw, sort_keys=True, default=str).encode(), usedforsecurity=False
        ).hexdigest()
        if key not in self.index:
            self.index[key] = len(self.blocks)
            self.blocks.append(_evidence(len(self.blocks), finding))
        return self.index[key]


def render(record: RunRecord) -> str:
    """The whole report as one HTML document."""
    all_pairs = pairs(record)
    pool = _Pool()
    ordered = _ordered(all_pairs)
    rows = [_row(i, pair, pool) for i, pair in enumerate(ordered)]
    row_of = {(p.operation_id, p.check_id): i for i, p in enumerate(ordered)}
    families = sorted({p.family for p in all_pairs})
    cfams = sorted({p.check_family for p in all_pairs})
    score = record.score()
    return _ENV.get_template("report.html.j2").render(
        title=run_title(record),
        info=_info(record),
        outcomes=[o.value for o in OUTCOMES],
        summary=count(p.outcome for p in all_pairs),
        findings=len(record.findings),
        score=score.overall,
        family_scores=score.families,
        causes=[_cause(c, row_of) for c in record.causes()],
        families=families,
        cfams=cfams,
        matrix=_matrix(all_pairs),
        rows=rows,
        evidence=pool.blocks,
    )


def _cause(cause: Cause, row_of: dict[tuple[str, str], int]) -> dict[str, Any]:
    lead = cause.lead
    return {
        "label": cause.label,
        "check": cause.check_id,
        "operations": cause.operations,
        "requests": cause.requests,
        "message": one_line(cause.message, 400),
        "also": cause.also_line(),
        "row": row_of.get((lead.operation_id, lead.check_id)),
    }


def _ordered(all_pairs: list[Pair]) -> list[Pair]:
    """Worst first, then as the run produced them."""
    return sorted(all_pairs, key=lambda p: _ORDER[p.outcome])


def _info(record: RunRecord) -> list[tuple[str, str]]:
    run = record.run
    items: list[tuple[str, str]] = []
    for key in ("name", "target", "base_url", "profile", "started", "finished", "seconds", "seed"):
        if run.get(key) not in (None, ""):
            items.append((key, str(run[key])))
    if run.get("only"):
        items.append(("only", ", ".join(str(x) for x in run["only"])))
    if run.get("dry_run"):
        items.append(("dry run", "yes"))
    if record.tool:
        items.append(("tool", record.tool))
    if record.spent:
        spent = ", ".join(f"{k} {v}" for k, v in record.spent.items())
        budget = ", ".join(f"{k} {v}" for k, v in record.budget.items())
        items.append(("spent", spent + (f" (budget: {budget})" if budget else "")))
    return items


def _matrix(all_pairs: list[Pair]) -> dict[str, dict[str, dict[str, Any]]]:
    """family -> check family -> {worst, counts: [(outcome, n)], total}."""
    grouped: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    for pair in all_pairs:
        grouped[(pair.family, pair.check_family)].append(pair)
    matrix: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (family, cfam), members in grouped.items():
        outcomes = [p.outcome for p in members]
        tally = count(outcomes)
        matrix[family][cfam] = {
            "worst": combine(outcomes).value,
            "counts": [(o, n) for o, n in tally.items() if n],
            "total": len(members),
        }
    return matrix


def _label(pair: Pair) -> str:
    """What a failing pair's verdict means: its severity, or whose consequence it is."""
    if pair.outcome is Outcome.ERROR:
        return "error"
    if pair.outcome is not Outcome.FAIL:
        return ""
    failed = pair.with_outcome(Outcome.FAIL)
    roots = [f for f in failed if not f.consequence_of]
    if not roots:
        return f"consequence of {failed[0].consequence_of}"
    labels = {severity_of(f).value for f in roots}
    return "breaks-clients" if "breaks-clients" in labels else "deviates"


def _row(index: int, pair: Pair, pool: _Pool) -> dict[str, Any]:
    return {
        "id": index,
        "outcome": pair.outcome.value,
        "label": _label(pair),
        "operation": pair.operation_id,
        "family": pair.family,
        "cfam": pair.check_family,
        "check": pair.check_id,
        "message": one_line(pair.lead.message, 400),
        "findings": [
            {
                "outcome": f.outcome.value,
                "source": f.source,
                "message": f.message,
                "timings": _timings(f.timings),
                "ev": pool.add(f),
            }
            for f in pair.findings
        ],
    }


def _timings(timings: dict[str, float]) -> str:
    parts = []
    for key in ("elapsed", "headers", "ttfe"):
        if key in timings:
            parts.append(f"{key} {_ms(timings[key])} ms")
    if timings.get("retries"):
        parts.append(f"retries {int(timings['retries'])}")
    return " · ".join(parts)


def _ms(seconds: Any) -> str:
    try:
        return f"{float(seconds) * 1000:.1f}"
    except (TypeError, ValueError):
        return "?"


def _cap(text: str) -> str:
    return text if len(text) <= TEXT_CAP else text[:TEXT_CAP] + f"… ({len(text)} characters)"


def _evidence(index: int, finding: Finding) -> _Evidence:
    request = finding.request or {}
    response = finding.response or {}
    headers = request.get("headers") or {}
    events = []
    previous = None
    for event in finding.events:
        at = event.get("at")
        gap = "" if previous is None or at is None else _ms(float(at) - float(previous))
        events.append(
            {
                "at": _ms(at),
                "gap": gap,
                "event": str(event.get("event") or "message"),
                "data": as_text(event.get("data")),
            }
        )
        previous = at
    return _Evidence(
        id=index,
        request={
            "line": f"{request.get('method', '')} {request.get('url', '')}".strip(),
            "headers": "\n".join(f"{k}: {v}" for k, v in headers.items()),
            "body": _cap(as_text(request.get("body"))),
        },
        response={
            "status": "" if not response else str(response.get("status") or "none"),
            "headers": "\n".join(f"{k}: {v}" for k, v in (response.get("headers") or {}).items()),
            "excerpt": _cap(as_text(response.get("excerpt"))),
            "error": as_text(response.get("error")),
        },
        events=events,
    )
