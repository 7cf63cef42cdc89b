"""The run record as JUnit XML: a testsuite per operation family, a testcase per (operation, check).

fail -> ``<failure>``, error -> ``<error>``, skip and inconclusive -> ``<skipped>`` whose message
starts with ``skip:`` or ``inconclusive (not a pass):``, so CI tools count them apart from passes.
"""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

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
from suites.findings import Finding, Outcome
from suites.record import RunRecord

MAX_DETAILED = 5
"""Failing findings of one testcase written out in full; the rest are counted."""
EXCERPT = 1500
"""Characters of a response excerpt kept in the XML."""


def render(record: RunRecord) -> str:
    """The whole run as a JUnit XML document (UTF-8 text with its declaration)."""
    root = JUnitXml(xml_safe(f"relaykit: {run_title(record)}"))
    suites: dict[str, TestSuite] = {}
    for pair in pairs(record):
        suite = suites.get(pair.family)
        if suite is None:
            suite = suites[pair.family] = TestSuite(xml_safe(pair.family))
            if record.run.get("started"):
                suite.timestamp = xml_safe(str(record.run["started"]))
        suite.append(_testcase(pair))  # type: ignore[no-untyped-call]
    for suite in suites.values():
        root.add_testsuite(suite)
    root.update_statistics()  # type: ignore[no-untyped-call]
    body: bytes = root.tostring()  # type: ignore[no-untyped-call]
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body.decode("utf-8") + "\n"


def _testcase(pair: Pair) -> TestCase:
    case = TestCase(xml_safe(pair.check_id), xml_safe(pair.operation_id), round(pair.elapsed, 4))
    outcome = pair.outcome
    lead = pair.lead
    message = xml_safe(one_line(lead.message, 500))
    if outcome in (Outcome.FAIL, Outcome.ERROR):
        result: Failure | Error | Skipped = (
            Failure(message, "fail") if outcome is Outcome.FAIL else Error(message, "error")
        )
        result.text = xml_safe(_evidence(pair.with_outcome(outcome), len(pair.findings)))
        case.result = [result]
    elif outcome is Outcome.SKIP:
        case.result = [Skipped(xml_safe(f"skip: {one_line(lead.message, 500)}"), "skip")]
    elif outcome is Outcome.INCONCLUSIVE:
        text = f"inconclusive (not a pass): {one_line(lead.message, 500)}"
        case.result = [Skipped(xml_safe(text), "inconclusive")]
    return case


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
