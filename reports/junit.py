"""The run record as JUnit XML: a testsuite per operation family, a testcase per (operation, check).

fail -> ``<failure>``, error -> ``<error>``, skip and inconclusive -> ``<skipped>`` whose message
starts with ``skip:`` or ``inconclusive (not a pass):``, so CI tools count them apart from passes.
A failure's message starts with its severity (``[breaks-clients]``, ``[deviates]``, or
``[consequence of sse.usage_chunk]``); the testcase's properties name the severity and the cause
it shares with other operations. Each testsuite's properties hold its family's score and the
run's score line.
"""

from __future__ import annotations

from junitparser import (
    Error,
    Failure,
    JUnitXml,
    Properties,
    Property,
    Skipped,
    TestCase,
    TestSuite,
)

from reports.digest import (
    Pair,
    as_text,
    one_line,
    pairs,
    request_line,
    response_line,
    run_title,
    xml_safe,
)
from suites.causes import Cause
from suites.findings import Finding, Outcome
from suites.record import RunRecord
from suites.score import Score
from suites.severity import severity_of

MAX_DETAILED = 5
"""Failing findings of one testcase written out in full; the rest are counted."""
EXCERPT = 1500
"""Characters of a response excerpt kept in the XML."""


def render(record: RunRecord) -> str:
    """The whole run as a JUnit XML document (UTF-8 text with its declaration)."""
    root = JUnitXml(xml_safe(f"relaykit: {run_title(record)}"))
    suites: dict[str, TestSuite] = {}
    score = record.score()
    cause_of = {id(f): c for c in record.causes() for f in c.members}
    for pair in pairs(record):
        suite = suites.get(pair.family)
        if suite is None:
            suite = suites[pair.family] = TestSuite(xml_safe(pair.family))
            if record.run.get("started"):
                suite.timestamp = xml_safe(str(record.run["started"]))
            _score_properties(suite, score.families.get(pair.family, Score()))
            suite.add_property("score.run", score.overall.line())
        suite.append(_testcase(pair, cause_of))  # type: ignore[no-untyped-call]
    for suite in suites.values():
        root.add_testsuite(suite)
    root.update_statistics()  # type: ignore[no-untyped-call]
    body: bytes = root.tostring()  # type: ignore[no-untyped-call]
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body.decode("utf-8") + "\n"


def _score_properties(suite: TestSuite, score: Score) -> None:
    for name in ("documented", "offered", "checked", "conformant", "strict"):
        suite.add_property(f"score.{name}", str(getattr(score, name)))
    suite.add_property("score", score.line())


def _testcase(pair: Pair, cause_of: dict[int, Cause]) -> TestCase:
    case = TestCase(xml_safe(pair.check_id), xml_safe(pair.operation_id), round(pair.elapsed, 4))
    outcome = pair.outcome
    lead = pair.lead
    message = xml_safe(one_line(lead.message, 500))
    if outcome in (Outcome.FAIL, Outcome.ERROR):
        cause = cause_of.get(id(lead))
        label = _label(lead)
        result: Failure | Error | Skipped = (
            Failure(f"[{label}] {message}", "fail")
            if outcome is Outcome.FAIL
            else Error(message, "error")
        )
        head = _cause_lines(label, cause)
        evidence = _evidence(pair.with_outcome(outcome), len(pair.findings))
        result.text = xml_safe("\n".join([*head, "", evidence]))
        _properties(case, label, cause)
        case.result = [result]
    elif outcome is Outcome.SKIP:
        case.result = [Skipped(xml_safe(f"skip: {one_line(lead.message, 500)}"), "skip")]
    elif outcome is Outcome.INCONCLUSIVE:
        text = f"inconclusive (not a pass): {one_line(lead.message, 500)}"
        case.result = [Skipped(xml_safe(text), "inconclusive")]
    return case


def _label(finding: Finding) -> str:
    if finding.outcome is Outcome.ERROR:
        return "error"
    if finding.consequence_of:
        return f"consequence of {finding.consequence_of}"
    return severity_of(finding).value


def _cause_lines(label: str, cause: Cause | None) -> list[str]:
    lines = [f"severity: {label}"]
    if cause is not None:
        ops = len(cause.operations)
        lines.append(
            f"cause: {cause.check_id} on {ops} operation(s) ({cause.where()}): "
            f"{one_line(cause.message, 300)}"
        )
        if cause.also_fails:
            lines.append(cause.also_line())
    return lines


def _properties(case: TestCase, label: str, cause: Cause | None) -> None:
    props = Properties()  # type: ignore[no-untyped-call]
    props.add_property(Property("severity", label))
    if cause is not None:
        props.add_property(Property("cause", xml_safe(f"{cause.check_id}: {cause.key}")))
        props.add_property(Property("cause.operations", str(len(cause.operations))))
    case.append(props)  # type: ignore[no-untyped-call]


def _evidence(failing: list[Finding], total: int) -> str:
    """What a CI log shows under the failure: each failing request and what came back."""
    lines = [f"{len(failing)} of {total} finding(s) ended this way"]
    for f in failing[:MAX_DETAILED]:
        lines.append("")
        lines.append(f"[{f.source or 'check'}] {f.message}")
        for extra in (request_line(f), response_line(f)):
            if extra:
                lines.append(extra)
        excerpt = as_text((f.response or {}).get("excerpt"))
        if excerpt:
            cut = excerpt[:EXCERPT] + ("…" if len(excerpt) > EXCERPT else "")
            lines.append(cut)
    if len(failing) > MAX_DETAILED:
        lines.append(f"... and {len(failing) - MAX_DETAILED} more")
    return "\n".join(lines)
