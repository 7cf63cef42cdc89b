"""Real runs, not hand-built records: a clean and a broken relay checked, all four formats
written, the JUnit file read back with the right counts, no key anywhere, and the diff naming
exactly the broken checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from reports.diff import diff
from reports.rundir import new_run_dir, scan_for_secrets, write_all
from suites.findings import Outcome
from suites.plan import make_plan
from suites.profile import Budget, Limits, Profile
from suites.record import RunRecord
from suites.runner import run
from tests.suites.broken_relay import GOOD_KEY, Breakage, BrokenRelay

ONLY = ["openai.chat.completions.nonstream", "openai.chat.completions.stream", "mj.task.fetch"]
PROFILE = Profile(
    limits=Limits(rps=0, retries=0, stream_stall=2, task_seconds=10, poll_interval=0.05),
    budget=Budget(requests=10_000, tokens=10**7, paid_media_calls=1000),
)


def _no_done(path: str, block: str) -> list[str]:
    return [] if block.strip() == "data: [DONE]" else [block]


def _flat_envelope(path: str, status: int, body: Any) -> Any:
    if status >= 400 and isinstance(body, dict) and "error" in body:
        return {"msg": "denied"}
    return body


@pytest.fixture(scope="module")
def upstream(contracts: ContractSet) -> Iterator[str]:
    config = MockConfig(api_keys=frozenset({GOOD_KEY}), ttfe=0.002, interval=0.01, task_speed=20)
    with serve_in_thread(create_app(contracts, config)) as url:
        yield url


def check(contracts: ContractSet, upstream: str, breakage: Breakage) -> RunRecord:
    plan = make_plan(contracts, PROFILE, ONLY, property_examples=2)
    with serve_in_thread(BrokenRelay(upstream, breakage)) as url:
        return run(contracts, PROFILE, plan, url, GOOD_KEY, seed=3)


@pytest.fixture(scope="module")
def runs(contracts: ContractSet, upstream: str) -> dict[str, RunRecord]:
    broken = Breakage(event=_no_done, body=_flat_envelope)
    return {
        "clean": check(contracts, upstream, Breakage()),
        "clean-again": check(contracts, upstream, Breakage()),
        "broken": check(contracts, upstream, broken),
    }


def test_a_broken_run_writes_four_formats_that_agree(
    runs: dict[str, RunRecord], tmp_path: Path
) -> None:
    record = runs["broken"]
    files = write_all(record, new_run_dir(tmp_path, "broken"), secrets=[GOOD_KEY])
    assert {files[k].name for k in ("record", "junit", "html", "markdown")} == {
        "record.json",
        "junit.xml",
        "report.html",
        "summary.md",
    }
    summary = record.summary()
    xml = JUnitXml.fromfile(str(files["junit"]))
    assert xml.tests == sum(summary.values())
    assert xml.failures == summary["fail"] and xml.errors == summary["error"]
    assert xml.skipped == summary["skip"] + summary["inconclusive"]
    assert summary["fail"] > 0
    html = files["html"].read_text(encoding="utf-8")
    assert "sse.terminator" in html and "errors.envelope" in html
    assert "sse.terminator" in files["markdown"].read_text(encoding="utf-8")
    assert json.loads(files["record"].read_text(encoding="utf-8"))["summary"] == summary
    assert scan_for_secrets([tmp_path], [GOOD_KEY]) == []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert GOOD_KEY not in path.read_text(encoding="utf-8", errors="replace")


def test_the_diff_names_exactly_the_broken_checks(runs: dict[str, RunRecord]) -> None:
    changes = diff(runs["clean"], runs["broken"])
    assert {(c.operation_id, c.check_id) for c in changes.new_failures} == {
        ("openai.chat.completions.stream", "sse.terminator"),
        ("openai.chat.completions.nonstream", "errors.envelope"),
        ("openai.chat.completions.stream", "errors.envelope"),
    }
    assert changes.has_regressions and not changes.fixed
    back = diff(runs["broken"], runs["clean"])
    assert {(c.operation_id, c.check_id) for c in back.fixed} == {
        (c.operation_id, c.check_id) for c in changes.new_failures
    }


def test_two_clean_runs_report_nothing_new(runs: dict[str, RunRecord]) -> None:
    changes = diff(runs["clean"], runs["clean-again"])
    assert not runs["clean"].failed()
    # latency is wall-clock and judged by thresholds, not asserted here; everything else is
    assert not changes.new_failures and not changes.fixed and not changes.newly_skipped
    assert not changes.other_changes and not changes.drift, changes.to_json()
    outcomes = {f.outcome for f in runs["clean"].findings}
    assert Outcome.PASS in outcomes
