"""One cause, one line: findings that share a check and a kind of answer are one cause; a defect
that fails two checks on the same answer is reported once, at its root."""

from __future__ import annotations

import json
from typing import Any

from contracts.model import ContractSet
from contracts.validation import Validators
from suites import judges
from suites.causes import (
    CONSEQUENCES,
    cause_key,
    group_causes,
    mark_consequences,
    matches,
    normalise,
    same_request,
)
from suites.chat_stream import check_chat_stream
from suites.findings import Finding, Outcome
from suites.invariant_rules import usage_total
from suites.invariants import Observed
from suites.record import OperationInfo, RunRecord
from suites.severity import Severity
from suites.streams import Arrival, StreamRecord

WRONG_KEY = "a key the relay cannot know: answered 400, expected 401 or 403"


def exchange(op: str, status: int, *, body: Any = None, ctype: str = "application/json") -> dict:
    """The evidence a run attaches: a redacted request and the response's status and headers."""
    return {
        "request": {
            "method": "POST",
            "url": f"https://relay.example/v1/{op}",
            "headers": {"authorization": "Bearer sk-***"},
            "body": body if body is not None else {"model": "gpt-4o-mini"},
        },
        "response": {"status": status, "headers": {"content-type": ctype}, "excerpt": ""},
    }


def wrong_key(op: str, status: int = 400) -> Finding:
    message = f"a key the relay cannot know: answered {status}, expected 401 or 403"
    return Finding(op, "auth.wrong_key", Outcome.FAIL, message, "negative", **exchange(op, status))


def test_thirty_nine_operations_with_one_wrong_key_answer_are_one_cause() -> None:
    findings = [wrong_key(f"family.op{i}") for i in range(39)]
    findings += [Finding(f"family.op{i}", "auth.no_key", Outcome.PASS, "401") for i in range(39)]
    (cause,) = group_causes(findings)
    assert cause.check_id == "auth.wrong_key" and cause.severity is Severity.BREAKS_CLIENTS
    assert len(cause.operations) == 39 and cause.requests == 39
    assert cause.message == WRONG_KEY and cause.lead is findings[0]
    assert cause.where() == "family.op0, family.op1, family.op2 and 36 more"


def test_distinct_statuses_stay_distinct_causes() -> None:
    findings = [wrong_key(f"op{i}", 400) for i in range(5)] + [wrong_key("op9", 500)]
    causes = group_causes(findings)
    assert [(len(c.operations), c.lead.response["status"]) for c in causes] == [(5, 400), (1, 500)]


def test_what_varies_per_request_is_not_a_new_cause() -> None:
    messages = [
        "answered 400, the contract says 200: Invalid model name passed in "
        "model=claude-3-5-sonnet-20241022. Call `/v1/models` to view available models",
        "answered 400, the contract says 200: Invalid model name passed in "
        "model=gpt-4o-mini. Call `/v1/models` to view available models",
    ]
    assert normalise(messages[0]) == normalise(messages[1])
    assert normalise("'model' sent as dict: answered 500") == normalise(
        "'input' sent as dict: answered 500"
    )
    assert normalise("chunk 3 breaks it at choices[0]") == normalise(
        "chunk 12 breaks it at choices[1]"
    )
    assert normalise("no answer: timeout at https://a.example/x/1") == "no answer: timeout at <url>"
    assert normalise("result /files/ab-1.png answered 404") == "result <path> answered 404"
    assert normalise("task 1234567890123456 ended") == normalise("task 9876543210987654 ended")
    assert normalise("request 0190a2b3-1c2d-7e8f-9a0b-1c2d3e4f5a6b") == "request <id>"
    assert normalise("using o1 today", models=["o1"]) == "using <model> today"
    # what the answer *is* stays: statuses, field locations, content types, words
    assert normalise("answered 404") != normalise("answered 405")
    assert normalise("at id: required") != normalise("at choices: required")
    assert normalise("content type audio/wav") != normalise("content type audio/mp3")
    assert normalise("the relay's answer isn't JSON") == "the relay's answer isn't JSON"


def test_the_key_is_one_function_a_judge_could_replace() -> None:
    findings = [wrong_key("a"), wrong_key("b", 500)]
    assert cause_key(findings[0]) != cause_key(findings[1])
    (one,) = group_causes(findings, key=lambda f, models: "the relay ignores keys")
    assert one.operations == ["a", "b"]


def test_breaks_clients_and_errors_come_before_deviates_even_when_rarer() -> None:
    findings = [
        Finding(f"op{i}", "errors.envelope", Outcome.FAIL, "the 400 body breaks it")
        for i in range(9)
    ]
    findings.append(Finding("chat", "sse.terminator", Outcome.FAIL, "no data: [DONE]"))
    findings.append(Finding("img", "examples", Outcome.ERROR, "harness error: KeyError"))
    causes = group_causes(findings)
    assert [(c.check_id, c.label, len(c.operations)) for c in causes] == [
        ("sse.terminator", "breaks-clients", 1),
        ("examples", "error", 1),
        ("errors.envelope", "deviates", 9),
    ]


def test_a_judges_own_severity_splits_a_cause() -> None:
    a = Finding("a", "response.schema", Outcome.FAIL, "at x: null is not of type 'string'")
    b = Finding("b", "response.schema", Outcome.FAIL, "at x: null is not of type 'string'")
    b.severity = "deviates"
    assert [c.severity for c in group_causes([a, b])] == [
        Severity.BREAKS_CLIENTS,
        Severity.DEVIATES,
    ]


# --- consequences --------------------------------------------------------------------------------


def chunk(choices: list[dict], **extra: Any) -> str:
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return json.dumps({**body, "choices": choices, **extra})


def stream_findings(contracts: ContractSet, op: str, usage_choice: bool) -> list[Finding]:
    """The real chat stream checks on a stream whose usage chunk carries a choice (or none)."""
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    last = [{"index": 0, "delta": {}, "finish_reason": None}] if usage_choice else []
    data = [
        chunk(
            [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]
        ),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk(last, usage=usage),
        "[DONE]",
    ]
    record = StreamRecord([Arrival(i * 0.01, "", d) for i, d in enumerate(data)])
    request = {
        "model": "gpt-4o",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    schema = {"$ref": "#/components/schemas/ChatCompletionChunk"}
    found = check_chat_stream(op, record, request, Validators(contracts.components), schema)
    evidence = exchange(op, 200, body=request, ctype="text/event-stream")
    for f in found:
        f.source, f.request, f.response = (
            "example:stream",
            evidence["request"],
            evidence["response"],
        )
    return found


def test_a_usage_chunk_with_a_choice_is_one_cause_that_also_fails_finish_reason(
    contracts: ContractSet,
) -> None:
    findings: list[Finding] = []
    for op in ("chat.stream", "chat.stream_tools"):
        findings += mark_consequences(stream_findings(contracts, op, usage_choice=True))
    failed = {(f.operation_id, f.check_id): f for f in findings if f.outcome is Outcome.FAIL}
    assert {check for _, check in failed} == {"sse.usage_chunk", "sse.finish_reason"}
    assert failed[("chat.stream", "sse.finish_reason")].consequence_of == "sse.usage_chunk"
    assert failed[("chat.stream", "sse.usage_chunk")].consequence_of == ""
    (cause,) = group_causes(findings)
    assert cause.check_id == "sse.usage_chunk" and cause.operations == [
        "chat.stream",
        "chat.stream_tools",
    ]
    assert cause.also_fails == ["sse.finish_reason"]
    assert cause.also_line() == "also fails sse.finish_reason on the same answers"
    assert not [
        f for f in mark_consequences(stream_findings(contracts, "x", False)) if f.consequence_of
    ]


def test_a_consequence_needs_the_same_request() -> None:
    root = Finding("chat", "sse.usage_chunk", Outcome.FAIL, "the usage chunk must have choices: []")
    late = Finding(
        "chat",
        "sse.finish_reason",
        Outcome.FAIL,
        "choice 0: deltas continue after its finish_reason",
    )
    root.source, late.source = "example:stream", "property#1"
    mark_consequences([root, late])
    assert late.consequence_of == ""
    late.source = "example:stream"
    mark_consequences([root, late])
    assert late.consequence_of == "sse.usage_chunk"
    other = Finding(
        "chat", "sse.finish_reason", Outcome.FAIL, "choices [0] streamed; n=2 asks for 0..1"
    )
    other.source = "example:stream"
    assert mark_consequences([root, other])[1].consequence_of == ""  # another defect: it stands


def test_a_stream_without_its_usage_chunk_has_no_usage_to_add_up() -> None:
    """The two real messages the rule reads, so a rewording cannot silently unmark it."""
    usage = Finding(
        "chat",
        "sse.usage_chunk",
        Outcome.FAIL,
        "include_usage asks for one usage chunk, last before [DONE]",
    )
    request = {"stream": True, "stream_options": {"include_usage": True}}
    _, message = usage_total(
        Observed(request, {"choices": []}, "application/json", b""), Validators({})
    )
    total = Finding("chat", "invariant.usage_total", Outcome.FAIL, message)
    mark_consequences([usage, total])
    assert total.consequence_of == "sse.usage_chunk"


def envelope_pair(contracts: ContractSet, status: int, body: Any, ctype: str) -> list[Finding]:
    """auth.wrong_key and its errors.envelope as suites/negative.py records them."""
    op = contracts.get("openai.chat.completions.nonstream")
    verdict = judges.error_envelope(
        op, contracts.envelopes, Validators(contracts.components), status, body
    )
    evidence = exchange(op.id, status, ctype=ctype)
    note = f"a key the relay cannot know: answered {status}, expected 401 or 403"
    return [
        Finding(op.id, "auth.wrong_key", Outcome.FAIL, note, "negative", **evidence),
        Finding(
            op.id,
            verdict.check_id,
            verdict.outcome,
            verdict.message,
            "negative:auth.wrong_key",
            **evidence,
        ),
    ]


def test_a_crash_page_to_a_wrong_key_is_one_defect_not_two(contracts: ContractSet) -> None:
    crash = mark_consequences(envelope_pair(contracts, 502, None, "text/html"))
    assert crash[1].outcome is Outcome.FAIL and crash[1].consequence_of == "auth.wrong_key"
    (cause,) = group_causes(crash)
    assert cause.check_id == "auth.wrong_key" and cause.also_fails == ["errors.envelope"]
    # a 4xx that is not JSON, or a 5xx in the wrong JSON shape: the envelope is its own defect
    for status, body in ((400, None), (500, {"detail": "boom"})):
        pair = mark_consequences(envelope_pair(contracts, status, body, "application/json"))
        assert pair[1].outcome is Outcome.FAIL and pair[1].consequence_of == ""
        assert len(group_causes(pair)) == 2


def test_an_html_page_for_json_is_one_defect_however_many_checks_it_fails(
    contracts: ContractSet,
) -> None:
    """Content type, then schema (no JSON), then the invariants that read the body: one cause."""
    op = contracts.get("openai.chat.completions.nonstream")
    from suites.probes import example_probes

    probe = example_probes(op, _profile())[0]
    validators = Validators(contracts.components)
    found = judges.success(probe, validators, "text/html", b"<html>", None, None)
    evidence = exchange(op.id, 200, ctype="text/html")
    for f in found:
        f.source, f.request, f.response = "example:basic", evidence["request"], evidence["response"]
    marked = {
        f.check_id: f.consequence_of for f in mark_consequences(found) if f.outcome is Outcome.FAIL
    }
    assert marked == {
        "response.content_type": "",
        "response.schema": "response.content_type",
        "invariant.choices_len_n": "response.schema",
    }
    (cause,) = group_causes(found)
    assert cause.check_id == "response.content_type"
    assert cause.also_fails == ["response.schema", "invariant.choices_len_n"]
    # JSON labelled text/plain: the content type is the one defect, the schema holds
    json_body = b'{"id": "x"}'
    found = judges.success(probe, validators, "text/plain", json_body, None, None)
    assert [f.consequence_of for f in mark_consequences(found)] == [""] * len(found)


def _profile() -> Any:
    from suites.profile import Profile

    return Profile()


def test_every_consequence_names_checks_the_severity_table_knows() -> None:
    from suites.severity import SEVERITY

    for rule in CONSEQUENCES:
        for pattern in (rule.check, *rule.roots):
            assert any(matches(check_id, pattern) for check_id in SEVERITY), pattern
        assert rule.why


def test_same_request_reads_the_error_body_source() -> None:
    a, b = envelope_like()
    assert same_request(a, b) and same_request(b, a)
    b.request = {"method": "POST", "url": "https://relay.example/other"}
    assert not same_request(a, b)


def envelope_like() -> tuple[Finding, Finding]:
    ev = exchange("op", 500)
    return (
        Finding(
            "op", "auth.no_key", Outcome.FAIL, "no key presented: answered 500", "negative", **ev
        ),
        Finding(
            "op",
            "errors.envelope",
            Outcome.FAIL,
            "the 500 body is not JSON",
            "negative:auth.no_key",
            **ev,
        ),
    )


# --- in the record --------------------------------------------------------------------------------


def test_the_record_writes_its_causes_and_recomputes_them_on_load() -> None:
    record = RunRecord(
        run={"name": "r"},
        operations={f"op{i}": OperationInfo("fam", "POST", f"/v1/op{i}") for i in range(3)},
        findings=[wrong_key(f"op{i}") for i in range(3)],
    )
    data = record.to_json()
    (cause,) = data["causes"]
    assert cause["check_id"] == "auth.wrong_key" and cause["operations"] == ["op0", "op1", "op2"]
    assert cause["severity"] == "breaks-clients" and cause["requests"] == 3
    assert cause["lead"] == {
        "operation_id": "op0",
        "source": "negative",
        "request": "POST https://relay.example/v1/op0",
        "status": 400,
    }
    data["causes"] = []  # derived: whatever the file says, the findings decide
    assert [c.to_json() for c in RunRecord.from_json(data).causes()] == [cause]
