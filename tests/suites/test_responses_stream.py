"""Each breakage of the Responses stream grammar fails the check aimed at it, and only that one;
the mock's own streams pass every rule, and the invariants read the Response they end with."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from contracts.wire.sse import DONE, SseParser
from suites.findings import Finding, Outcome
from suites.invariants import Observed, check_invariants
from suites.responses_stream import CHECKS, check_responses_stream, final_response
from suites.streams import Arrival, StreamRecord

OP_ID = "openai.responses.stream"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TEXT = {"model": "gpt-4o-mini", "input": "Say hello.", "stream": True}
CALL = {**TEXT, "input": "Weather in Paris?", "tools": [TOOL], "tool_choice": "required"}
Events = list[tuple[str, Any]]


def _stream(mock_url: str, body: dict[str, Any]) -> Events:
    r = httpx.post(f"{mock_url}/v1/responses", json=body, headers={"Authorization": "Bearer k"})
    assert r.status_code == 200, r.text
    return [(e.event, json.loads(e.data)) for e in SseParser().feed(r.content, final=True)]


def _record(events: Events) -> StreamRecord:
    arrivals = [
        Arrival(0.01 * (i + 1), name, data if isinstance(data, str) else json.dumps(data))
        for i, (name, data) in enumerate(events)
    ]
    return StreamRecord(arrivals=arrivals, ended="eof")


def _check(contracts: ContractSet, events: Events, request: dict[str, Any]) -> list[Finding]:
    op = contracts.get(OP_ID)
    assert op.stream is not None
    validators = Validators(contracts.components)
    return check_responses_stream(OP_ID, _record(events), request, validators, op.stream.events)


def _failing(findings: list[Finding]) -> set[str]:
    return {f.check_id for f in findings if f.outcome in (Outcome.FAIL, Outcome.ERROR)}


def _renumber(events: Events) -> Events:
    return [(n, {**d, "sequence_number": i}) for i, (n, d) in enumerate(events)]


def _first(events: Events, name: str) -> int:
    return next(i for i, (n, _) in enumerate(events) if n == name)


def _drop_terminal(events: Events) -> Events:
    return [e for e in events if e[0] != "response.completed"]


def _two_terminals(events: Events) -> Events:
    name, data = events[-1]
    return [*events, (name, {**data, "sequence_number": data["sequence_number"] + 1})]


def _done_after(events: Events) -> Events:
    return [*events, ("", DONE)]


def _sequence_back(events: Events) -> Events:
    out = list(events)
    name, data = out[3]
    out[3] = (name, {**data, "sequence_number": 1})
    return out


def _delta_changed(events: Events) -> Events:
    out = list(events)
    at = _first(out, "response.output_text.delta")
    name, data = out[at]
    out[at] = (name, {**data, "delta": data["delta"] + "!"})
    return out


def _delta_before_part(events: Events) -> Events:
    out = list(events)
    part = out.pop(_first(out, "response.content_part.added"))
    out.insert(_first(out, "response.output_text.delta") + 1, part)
    return _renumber(out)


def _mistyped(events: Events) -> Events:
    out = list(events)
    name, data = out[2]
    out[2] = (name.replace("added", "started"), data)
    return out


def _unnamed(events: Events) -> Events:
    return [("", data) for _, data in events]


def _no_item_id(events: Events) -> Events:
    out = list(events)
    at = _first(out, "response.output_text.delta")
    name, data = out[at]
    out[at] = (name, {k: v for k, v in data.items() if k != "item_id"})
    return out


def _arguments_changed(events: Events) -> Events:
    out = list(events)
    at = _first(out, "response.function_call_arguments.delta")
    name, data = out[at]
    out[at] = (name, {**data, "delta": "}" + data["delta"]})
    return out


BREAKAGES: dict[str, tuple[dict[str, Any], Callable[[Events], Events], str]] = {
    "no terminal event": (TEXT, _drop_terminal, "sse.terminator"),
    "two terminal events": (TEXT, _two_terminals, "sse.terminator"),
    "[DONE] after the end": (TEXT, _done_after, "sse.terminator"),
    "sequence number going back": (TEXT, _sequence_back, "sse.sequence_numbers"),
    "a delta the done text lacks": (TEXT, _delta_changed, "sse.text_deltas"),
    "a delta before its part": (TEXT, _delta_before_part, "sse.event_order"),
    "named other than typed": (TEXT, _mistyped, "sse.framing"),
    "data-only events": (TEXT, _unnamed, "sse.framing"),
    "a delta without item_id": (TEXT, _no_item_id, "sse.event_schema"),
    "arguments that do not join": (CALL, _arguments_changed, "sse.tool_arguments"),
}


@pytest.mark.parametrize("request_body", [TEXT, CALL], ids=["text", "call"])
def test_the_mocks_streams_pass_every_rule(
    contracts: ContractSet, mock_url: str, request_body: dict[str, Any]
) -> None:
    findings = _check(contracts, _stream(mock_url, request_body), request_body)
    assert [f.check_id for f in findings] == list(CHECKS)
    assert _failing(findings) == set(), [f.message for f in findings]
    # a call streams no text, a text no call: those rules are not exercised, never passed
    skipped = {f.check_id for f in findings if f.outcome is Outcome.SKIP}
    assert skipped == ({"sse.text_deltas"} if "tools" in request_body else {"sse.tool_arguments"})


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_breakage_fails_only_its_rule(
    contracts: ContractSet, mock_url: str, name: str
) -> None:
    body, breakage, check_id = BREAKAGES[name]
    findings = _check(contracts, breakage(_stream(mock_url, body)), body)
    assert _failing(findings) == {check_id}, [f"{f.check_id}: {f.message}" for f in findings]


def test_data_only_events_and_a_trailing_done_deviate_since_the_sdk_copes(
    contracts: ContractSet, mock_url: str
) -> None:
    findings = _check(contracts, _unnamed(_stream(mock_url, TEXT)), TEXT)
    framing = next(f for f in findings if f.check_id == "sse.framing")
    assert framing.outcome is Outcome.FAIL and framing.severity == "deviates"
    done = _check(contracts, _done_after(_stream(mock_url, TEXT)), TEXT)
    terminator = next(f for f in done if f.check_id == "sse.terminator")
    assert terminator.outcome is Outcome.FAIL and terminator.severity == "deviates"
    renamed = _check(contracts, _mistyped(_stream(mock_url, TEXT)), TEXT)
    assert next(f for f in renamed if f.check_id == "sse.framing").severity == ""


def test_the_invariants_judge_the_response_the_stream_ends_with(
    contracts: ContractSet, mock_url: str
) -> None:
    op = contracts.get(OP_ID)
    validators = Validators(contracts.components)
    body = {**TEXT, "input": "Write a long story about the sea, with many details, please."}
    body["max_output_tokens"] = 16
    record = _record(_stream(mock_url, body))
    response = final_response(record)
    assert response is not None and response["status"] == "incomplete"
    judged = check_invariants(op, Observed(body, response, "application/json", b""), validators)
    outcomes = {f.check_id: f.outcome for f in judged}
    assert outcomes["invariant.max_output_tokens_respected"] is Outcome.PASS
    assert outcomes["invariant.incomplete_when_cut"] is Outcome.PASS
    assert outcomes["invariant.responses_usage_total"] is Outcome.PASS
    # the same stream without its terminal event: nothing to judge, never a failure
    cut = _record(_drop_terminal(_stream(mock_url, TEXT)))
    missing = check_invariants(op, Observed(TEXT, final_response(cut), "", b""), validators)
    assert {f.outcome for f in missing} <= {Outcome.SKIP, Outcome.INCONCLUSIVE}


def test_an_over_the_cap_or_completed_at_the_cap_response_fails(
    contracts: ContractSet, mock_url: str
) -> None:
    op = contracts.get("openai.responses.nonstream")
    validators = Validators(contracts.components)
    request = {"model": "gpt-4o-mini", "input": "Tell me a long story.", "max_output_tokens": 16}
    r = httpx.post(f"{mock_url}/v1/responses", json=request, headers={"Authorization": "Bearer k"})
    response = r.json()
    response["usage"]["output_tokens"] = 17
    response["usage"]["total_tokens"] += 1
    response["status"], response["incomplete_details"] = "completed", None
    judged = check_invariants(op, Observed(request, response, "application/json", b""), validators)
    failing = {f.check_id for f in judged if f.outcome is Outcome.FAIL}
    assert failing == {"invariant.max_output_tokens_respected", "invariant.incomplete_when_cut"}
