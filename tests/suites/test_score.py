"""The conformance score: offered of documented, checked, conformant of offered, per family."""

from __future__ import annotations

from suites.findings import Finding, Outcome
from suites.record import OperationInfo, RunRecord
from suites.score import RunScore, Score, documented_counts


def op(family: str, offered: str = "") -> OperationInfo:
    return OperationInfo(family, "POST", "/v1/x", offered=offered)


def scored_record() -> RunRecord:
    """Family a: one route not offered, one offered but never checked (budget), one that only
    deviates, one that breaks clients; family b: one clean, one that errored, one only
    inconclusive; family c: five documented operations the run never reached."""
    f = Finding
    return RunRecord(
        run={"name": "scored", "documented": {"a": 6, "b": 3, "c": 5}},
        operations={
            "a.gone": op("a", "route not offered: POST /v1/gone answered 404"),
            "a.budget": op("a"),
            "a.deviates": op("a"),
            "a.breaks": op("a"),
            "b.clean": op("b"),
            "b.error": op("b"),
            "b.unsure": op("b"),
        },
        findings=[
            f("a.gone", "examples", Outcome.SKIP, "route not offered"),
            f("a.budget", "examples", Outcome.SKIP, "budget: requests (10 allowed)"),
            f("a.deviates", "response.status", Outcome.PASS, "200"),
            f("a.deviates", "errors.envelope", Outcome.FAIL, "the 400 body breaks it"),
            f("a.breaks", "sse.terminator", Outcome.FAIL, "no data: [DONE]"),
            f("a.breaks", "auth.no_key", Outcome.PASS, "401"),
            f("b.clean", "response.status", Outcome.PASS, "200"),
            f("b.clean", "invariant.usage_total", Outcome.INCONCLUSIVE, "no usage"),
            f("b.unsure", "invariant.task_reaches_terminal", Outcome.INCONCLUSIVE, "after 300 s"),
            f("b.error", "response.status", Outcome.ERROR, "no answer: ReadTimeout"),
            f("c.stray", "response.status", Outcome.FAIL, "not in the operations map"),
        ],
    )


def test_score_per_family_and_overall() -> None:
    s = scored_record().score()
    assert s.families == {
        "a": Score(documented=6, offered=3, checked=2, conformant=1, strict=0),
        "b": Score(documented=3, offered=3, checked=3, conformant=1, strict=1),
        "c": Score(documented=5),
    }
    assert s.overall == Score(documented=14, offered=6, checked=5, conformant=2, strict=1)
    assert s.overall.percent == 33


def test_the_line_and_its_caveats_say_plainly_how_much_was_checked() -> None:
    overall = scored_record().score().overall
    assert overall.line() == "offered 6 of 14 operations, checked 5, conformant 2 of 6 (33%)"
    assert overall.caveats() == [
        "This run checked little: 5 of 14 documented operations; it says nothing about the rest.",
        "1 offered operation(s) were not checked (every check skipped: budget, deadline...); "
        "they are not counted conformant.",
        "1 of the conformant operations deviate (they count with --strict).",
    ]
    assert Score().line() == "offered 0 of 0 operations, checked 0, conformant 0 of 0"
    assert Score().caveats()[0].startswith("This run checked no operation")
    assert Score(119, 23, 23, 19, 19).line() == (
        "offered 23 of 119 operations, checked 23, conformant 19 of 23 (82%)"
    )


def test_percent_never_rounds_up_to_a_clean_run() -> None:
    assert Score(200, 200, 200, 199, 199).percent == 99


def test_a_consequence_is_counted_through_its_root_only() -> None:
    record = scored_record()
    envelope = Finding("b.clean", "errors.envelope", Outcome.FAIL, "the 502 body is not JSON")
    envelope.consequence_of = "negative.wrong_type"  # whose own failure deviates
    root = Finding("b.clean", "negative.wrong_type", Outcome.FAIL, "answered 502")
    record.findings += [root, envelope]
    assert record.score().families["b"].conformant == 1
    assert record.score().families["b"].strict == 0


def test_the_record_writes_the_score_and_reads_it_back() -> None:
    record = scored_record()
    data = record.to_json()
    assert data["score"]["offered"] == 6 and data["score"]["families"]["c"]["documented"] == 5
    assert RunScore.from_json(data["score"]) == record.score()
    assert RunRecord.from_json(data).score() == record.score()


def test_without_documented_counts_the_operations_map_is_the_scope() -> None:
    record = scored_record()
    record.run = {"name": "old record"}
    assert record.score().overall.documented == 7
    assert documented_counts(["a", "a", "b"]) == {"a": 2, "b": 1}
