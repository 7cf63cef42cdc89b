"""The diff of two runs: each category, the CI gate, and the three renderings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.diff import diff, load_any, render_json, render_markdown, render_text
from reports.rundir import write_all
from suites.findings import Finding, Outcome
from tests.reports.sample import broken_record, clean_record

BROKEN = {
    ("chat.create", "response.schema"),
    ("chat.create", "negative.malformed_json"),
    ("chat.stream", "sse.terminator"),
}


def _keys(changes: list) -> set[tuple[str, str]]:
    return {(c.operation_id, c.check_id) for c in changes}


def test_clean_vs_clean_is_nothing_new() -> None:
    d = diff(clean_record(), clean_record())
    assert d.nothing_new and not d.has_regressions
    assert not (d.new_failures or d.fixed or d.still_failing or d.newly_skipped)
    assert not (d.other_changes or d.latency or d.drift)
    assert "nothing new (0 still failing)" in render_text(d)


def test_clean_to_broken_names_exactly_the_broken_checks() -> None:
    d = diff(clean_record(), broken_record())
    assert d.has_regressions
    assert _keys(d.new_failures) == BROKEN
    assert {c.before for c in d.new_failures} == {"pass"}
    # pass -> inconclusive is a change worth showing, but not a failure.
    assert [(c.check_id, c.before, c.after) for c in d.other_changes] == [
        ("task.lifecycle", "pass", "inconclusive")
    ]
    assert not (d.fixed or d.still_failing or d.newly_skipped)


def test_broken_to_clean_is_fixed() -> None:
    d = diff(broken_record(), clean_record())
    assert not d.has_regressions
    assert _keys(d.fixed) == BROKEN
    assert {c.after for c in d.fixed} == {"pass"}


def test_broken_twice_is_still_failing_not_new() -> None:
    d = diff(broken_record(), broken_record())
    assert _keys(d.still_failing) == BROKEN
    assert not d.has_regressions and d.nothing_new
    assert "nothing new (3 still failing)" in render_text(d)


def test_a_new_check_that_fails_is_a_new_failure() -> None:
    current = clean_record()
    current.findings.append(Finding("chat.create", "invariant.usage_sum", Outcome.FAIL, "3 != 4"))
    d = diff(clean_record(), current)
    assert [(c.check_id, c.before, c.after) for c in d.new_failures] == [
        ("invariant.usage_sum", None, "fail")
    ]


def test_newly_skipped_with_the_reason_and_gone_checks() -> None:
    current = clean_record()
    auth = next(f for f in current.findings if f.check_id == "auth.no_key")
    auth.outcome, auth.message = Outcome.SKIP, "unsupported: the relay has no keyless mode"
    current.findings = [f for f in current.findings if f.check_id != "sse.framing"]
    d = diff(clean_record(), current)
    assert [(c.check_id, c.before, c.message) for c in d.newly_skipped] == [
        ("auth.no_key", "pass", "unsupported: the relay has no keyless mode")
    ]
    assert [(c.check_id, c.before, c.after) for c in d.other_changes] == [
        ("sse.framing", "pass", None)
    ]
    assert not d.has_regressions and not d.nothing_new


def test_latency_regression_beyond_threshold_and_floor() -> None:
    current = clean_record()
    current.operations["chat.create"].latency = [s * 3 for s in [0.12, 0.2, 0.12, 0.01]]
    # +80% but only +40 ms: under the absolute floor, so not a regression.
    current.operations["mj.imagine"].latency = [0.09, 0.1]
    d = diff(clean_record(), current)
    assert len(d.latency) == 1
    (lat,) = d.latency
    assert lat.operation_id == "chat.create" and lat.regressed == ("p50", "p95")
    assert lat.before_ms == {"p50": 120.0, "p95": 188.0}
    assert lat.after_ms == {"p50": 360.0, "p95": 564.0}
    assert "chat.create: p50 120.0 -> 360.0 ms (+200%)" in render_text(d)
    assert not d.has_regressions  # latency is reported, the gate is new failures
    assert diff(clean_record(), current, latency_threshold=2.5).latency == []
    assert len(diff(clean_record(), current, min_latency_ms=10).latency) == 2


def test_schema_drift_only_where_both_runs_saw_fields() -> None:
    current = clean_record()
    current.operations["chat.create"].fields = ["choices", "choices.*.message", "id", "usage"]
    current.operations["mj.imagine"].fields = []  # no 2xx this time: no evidence of drift
    d = diff(clean_record(), current)
    assert [(x.operation_id, x.appeared, x.disappeared) for x in d.drift] == [
        ("chat.create", ("usage",), ("object",))
    ]
    assert "chat.create: +usage -object" in render_text(d)


def test_renderings_agree() -> None:
    d = diff(clean_record(), broken_record())
    text = render_text(d)
    assert text.startswith("relaykit diff: clean -> broken\n")
    assert "new failures (3):" in text and "REGRESSED: 3 new failure(s)" in text
    assert "pass -> fail  chat.stream sse.terminator: no data: [DONE] after the last chunk" in text
    md = render_markdown(d)
    assert "### new failures (3)" in md
    assert "| pass → fail | `chat.stream` | `sse.terminator` |" in md
    data = json.loads(render_json(d))
    assert data["has_regressions"] is True and data["nothing_new"] is False
    assert {(c["operation_id"], c["check_id"]) for c in data["new_failures"]} == BROKEN


def test_load_any_reads_a_run_dir_or_a_record(tmp_path: Path) -> None:
    write_all(broken_record(), tmp_path / "run")
    assert load_any(tmp_path / "run").run["name"] == "broken"
    assert load_any(tmp_path / "latest" / "record.json").run["name"] == "broken"
    with pytest.raises(ValueError, match="no such run record"):
        load_any(tmp_path / "nowhere")


def test_the_score_before_and_after_overall_and_per_family() -> None:
    d = diff(clean_record(), broken_record())
    overall, *families = d.score
    assert overall.family == "all" and overall.moved
    assert (overall.before["conformant"], overall.after["conformant"]) == (3, 0)
    assert [(s.family, s.text()) for s in families] == [
        ("midjourney", "conformant 1 -> 0 (of 1), strict 1 -> 0"),
        ("openai-chat", "conformant 2 -> 0 (of 2), strict 2 -> 0"),
    ]
    text = render_text(d)
    assert "score before: offered 5 of 5 operations, checked 3, conformant 3 of 5 (60%)" in text
    assert "score after:  offered 5 of 5 operations, checked 3, conformant 0 of 5 (0%)" in text
    assert "  openai-chat: conformant 2 -> 0 (of 2), strict 2 -> 0" in text
    md = render_markdown(d)
    assert "| all | offered 5 of 5 operations, checked 3, conformant 3 of 5 (60%) | " in md
    assert json.loads(render_json(d))["score"][0]["after"]["conformant"] == 0


def test_a_relay_that_offers_more_moves_the_score_but_is_no_regression() -> None:
    before = clean_record()
    for op in ("suno.submit", "suno.lyrics"):
        before.operations[op].offered = "route not offered: POST answered 404"
    d = diff(before, clean_record())
    assert [s.family for s in d.score] == ["all", "suno"]
    assert d.score[1].text() == "offered 0 -> 2"  # offered, still never checked (skips)
    assert not d.has_regressions and not d.nothing_new
    assert diff(clean_record(), clean_record()).score[1:] == []
