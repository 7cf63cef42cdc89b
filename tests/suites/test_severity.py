"""Severity: one table for every check id the suites emit, the README's table equal to it, and
the exit code counting what breaks clients (everything with --strict)."""

from __future__ import annotations

import re
from pathlib import Path

from contracts.model import ContractSet
from contracts.validation import Validators
from suites import (
    anthropic_stream,
    chat_stream,
    gemini_stream,
    invariants,
    judges,
    negative,
    plan,
    responses_stream,
    tasks,
)
from suites.findings import Finding, Outcome
from suites.record import RunRecord
from suites.schemathesis_check import CHECK_ID as SCHEMATHESIS
from suites.severity import SEVERITY, Severity, counts_against, markdown_table, severity_of
from tests.conftest import ROOT

SUITES = ROOT / "suites"
LITERAL = re.compile(r'"((?:sse|gemini|response|request|errors|auth|negative|invariant)\.[a-z_]+)"')


def emitted_check_ids(contracts: ContractSet) -> set[str]:
    """Every check id the suites can emit: the registries, the ids named in the contracts, and
    every check-id-like string literal in suites/ (outside the severity table itself)."""
    ids = {*negative.CHECKS, *chat_stream.CHECKS, *anthropic_stream.CHECKS, SCHEMATHESIS}
    ids |= set(gemini_stream.CHECKS)
    ids |= set(responses_stream.CHECKS)
    ids |= set(plan.RUN_ORDER)  # plan-level ids: skips and harness errors of a whole check
    ids |= {f"invariant.{n}" for n in invariants.RESPONSE_INVARIANTS}
    ids |= {f"invariant.{n}" for n in (*invariants.TASK_INVARIANTS, *tasks.TASK_INVARIANTS)}
    ids |= set(invariants.STREAM_INVARIANTS.values())
    for op in contracts:
        for name in op.invariants:
            ids.add(invariants.STREAM_INVARIANTS.get(name, f"invariant.{name}"))
    for path in SUITES.glob("*.py"):
        if path.name != "severity.py":
            ids |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    return ids


def test_every_check_id_the_suites_emit_has_a_severity(contracts: ContractSet) -> None:
    missing = emitted_check_ids(contracts) - set(SEVERITY)
    assert missing == set(), f"add these to suites/severity.py SEVERITY: {sorted(missing)}"


def test_the_table_names_no_check_that_does_not_exist(contracts: ContractSet) -> None:
    assert set(SEVERITY) - emitted_check_ids(contracts) == set()


def readme_table() -> dict[str, Severity]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Severity") :]
    table: dict[str, Severity] = {}
    for row in re.findall(r"^\| `([a-z-]+)` \|[^|]*\|(.*)\|$", section, re.M)[:2]:
        severity, checks = Severity(row[0]), row[1]
        for check_id in re.findall(r"`([^`]+)`", checks):
            assert check_id not in table, f"{check_id} is in the README's table twice"
            table[check_id] = severity
    return table


def test_the_readmes_table_is_the_codes_table() -> None:
    assert readme_table() == dict(SEVERITY)
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_judges_severity_wins_and_unknown_checks_deviate() -> None:
    f = Finding("op", "response.schema", Outcome.FAIL, "null")
    assert severity_of(f) is Severity.BREAKS_CLIENTS
    f.severity = "deviates"
    assert severity_of(f) is Severity.DEVIATES
    assert severity_of(Finding("op", "made.up", Outcome.FAIL, "")) is Severity.DEVIATES


def test_an_explicit_null_on_an_optional_field_only_deviates(contracts: ContractSet) -> None:
    op = contracts.get("openai.chat.completions.nonstream")
    validators = Validators(contracts.components)
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    assert judges.body_schema(op, validators, "application/json", body).outcome is Outcome.PASS
    nulled = {**body, "usage": None}  # usage is optional: the SDK reads null as absent
    found = judges.body_schema(op, validators, "application/json", nulled)
    assert found.outcome is Outcome.FAIL and severity_of(found) is Severity.DEVIATES
    assert "an explicit null where the field is optional" in found.message
    required = {**body, "choices": None}  # choices is required: completion.choices[0] raises
    found = judges.body_schema(op, validators, "application/json", required)
    assert found.outcome is Outcome.FAIL and severity_of(found) is Severity.BREAKS_CLIENTS
    missing = {k: v for k, v in body.items() if k != "id"}
    assert severity_of(judges.body_schema(op, validators, "application/json", missing)) is (
        Severity.BREAKS_CLIENTS
    )


# --- the exit code --------------------------------------------------------------------------


def record(*findings: Finding) -> RunRecord:
    return RunRecord(run={"name": "exit"}, findings=list(findings))


FAIL_ERROR = frozenset({Outcome.FAIL, Outcome.ERROR})


def test_deviates_fail_the_run_only_with_strict() -> None:
    run = record(
        Finding("op", "errors.envelope", Outcome.FAIL, "the 400 body breaks it"),
        Finding("op", "response.status", Outcome.PASS, "200"),
    )
    assert not run.failed() and run.failed(FAIL_ERROR, strict=True)
    run.findings.append(Finding("op2", "sse.terminator", Outcome.FAIL, "no data: [DONE]"))
    assert run.failed()


def test_an_error_counts_whatever_its_check_when_error_is_in_fail_on() -> None:
    run = record(Finding("op", "schemathesis", Outcome.ERROR, "no answer: ReadTimeout"))
    assert run.failed() and not run.failed(frozenset({Outcome.FAIL}))


def test_fail_on_still_selects_outcomes() -> None:
    run = record(Finding("op", "invariant.usage_total", Outcome.INCONCLUSIVE, "no usage"))
    assert not run.failed() and run.failed(frozenset({Outcome.INCONCLUSIVE}))
    breaks = record(Finding("op", "auth.wrong_key", Outcome.FAIL, "answered 400"))
    assert breaks.failed() and not breaks.failed(frozenset({Outcome.ERROR}))


def test_a_consequence_counts_through_its_root() -> None:
    root = Finding("op", "negative.wrong_type", Outcome.FAIL, "answered 502", "negative")
    envelope = Finding("op", "errors.envelope", Outcome.FAIL, "the 502 body is not JSON")
    envelope.severity = "breaks-clients"  # even if it were rated higher than its root
    envelope.consequence_of = "negative.wrong_type"
    assert not counts_against(envelope, strict=True)
    assert not record(root, envelope).failed() and record(root, envelope).failed(strict=True)


def test_a_deviating_finding_of_a_breaking_check_does_not_fail_the_run() -> None:
    nulls = Finding("op", "response.schema", Outcome.FAIL, "at usage: null (explicit null)")
    nulls.severity = "deviates"
    assert not record(nulls).failed() and record(nulls).failed(strict=True)


def test_severity_module_prints_the_readme_table() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "suites.severity"],
        capture_output=True,
        text=True,
        cwd=Path(ROOT),
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == markdown_table()
