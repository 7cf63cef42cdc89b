"""Gemini's stream grammar and invariants on answers made here (no server), and the probes
that carry its stream flag in the query and its model in the path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from contracts.wire.gemini import json_schema
from suites.findings import Outcome
from suites.gemini_stream import assemble, check_gemini_array, check_gemini_stream
from suites.invariant_gemini import RULES
from suites.invariants import Observed
from suites.probes import example_probes
from suites.profile import Profile
from suites.streams import Arrival, StreamRecord

SCHEMA = {"$ref": "#/components/schemas/GeminiGenerateContentResponse"}


@pytest.fixture(scope="module")
def validators(contracts: ContractSet) -> Validators:
    return Validators(contracts.components)


def chunk(text: str, finish: str | None = None, usage: dict[str, int] | None = None) -> Any:
    cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [cand], "modelVersion": "g", "responseId": "r"}
    if usage:
        out["usageMetadata"] = usage
    return out


USAGE = {"promptTokenCount": 4, "candidatesTokenCount": 3, "totalTokenCount": 7}
GOOD = [chunk("Hello"), chunk(" there", "STOP", USAGE)]


def record(datas: list[str]) -> StreamRecord:
    return StreamRecord([Arrival(0.01 * i, "message", d) for i, d in enumerate(datas)])


def verdicts(findings: list[Any]) -> dict[str, Outcome]:
    return {f.check_id: f.outcome for f in findings}


def test_a_good_stream_and_its_array_pass(validators: Validators) -> None:
    sse = check_gemini_stream("g", record([json.dumps(c) for c in GOOD]), validators, SCHEMA)
    assert set(verdicts(sse).values()) == {Outcome.INCONCLUSIVE, Outcome.PASS}  # 2 events
    array = check_gemini_array("g", GOOD, validators, SCHEMA)
    assert set(verdicts(array).values()) == {Outcome.PASS}
    assert assemble(GOOD)["candidates"][0]["content"]["parts"] == [{"text": "Hello there"}]


@pytest.mark.parametrize(
    ("datas", "check"),
    [
        ([json.dumps(GOOD[0])[:20], json.dumps(GOOD[1])], "gemini.framing"),
        ([*(json.dumps(c) for c in GOOD), "[DONE]"], "gemini.framing"),  # no terminator
        ([json.dumps(chunk("a", "STOP")), json.dumps(GOOD[1])], "gemini.finish_reason"),
        ([json.dumps(GOOD[0]), json.dumps(chunk(" b", "STOP"))], "gemini.usage"),
        (
            [json.dumps({**GOOD[0], "responseId": "x"}), json.dumps(GOOD[1])],
            "gemini.consistent_ids",
        ),
        ([json.dumps({**GOOD[0], "candidates": "x"}), json.dumps(GOOD[1])], "gemini.event_schema"),
    ],
)
def test_each_rule_fails_alone(validators: Validators, datas: list[str], check: str) -> None:
    found = verdicts(check_gemini_stream("g", record(datas), validators, SCHEMA))
    assert {c for c, o in found.items() if o is Outcome.FAIL} == {check}


def test_the_array_form_must_be_an_array_of_objects(validators: Validators) -> None:
    assert verdicts(check_gemini_array("g", {"x": 1}, validators, SCHEMA)) == {
        "gemini.framing": Outcome.FAIL
    }
    found = verdicts(check_gemini_array("g", [GOOD[0], 3, GOOD[1]], validators, SCHEMA))
    assert found["gemini.framing"] is Outcome.FAIL


def judge(name: str, request: dict[str, Any], body: Any, validators: Validators) -> Outcome:
    outcome, _ = RULES[name](Observed(request, body, "application/json", b""), validators)
    return outcome


def test_the_invariants(validators: Validators) -> None:
    answer = assemble(GOOD)
    assert judge("gemini_usage_total", {}, answer, validators) is Outcome.PASS
    off = {**answer, "usageMetadata": {**USAGE, "totalTokenCount": 9}}
    assert judge("gemini_usage_total", {}, off, validators) is Outcome.FAIL
    capped = {"generationConfig": {"maxOutputTokens": 2}}
    assert judge("gemini_max_output_tokens", capped, answer, validators) is Outcome.FAIL
    assert judge("gemini_max_output_tokens", {}, answer, validators) is Outcome.SKIP
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}, "required": ["n"]}
    asked = {"generationConfig": {"responseMimeType": "application/json", "responseSchema": schema}}
    good_json = assemble([chunk('{"n": 1}', "STOP")])
    assert judge("gemini_response_schema", asked, good_json, validators) is Outcome.PASS
    bad_json = assemble([chunk('{"n": "one"}', "STOP")])
    assert judge("gemini_response_schema", asked, bad_json, validators) is Outcome.FAIL
    assert judge("gemini_candidate_count", {}, answer, validators) is Outcome.PASS
    two = {"generationConfig": {"candidateCount": 2}}
    assert judge("gemini_candidate_count", two, answer, validators) is Outcome.FAIL


def test_function_args_are_judged_against_the_declaration(validators: Validators) -> None:
    params = {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}
    request = {
        "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": params}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
    }

    def called(args: Any, name: str = "get_weather") -> Any:
        part = {"functionCall": {"name": name, "args": args}}
        return {"candidates": [{"content": {"role": "model", "parts": [part]}}]}

    assert judge("gemini_function_args", request, called({"city": "Paris"}), validators) is (
        Outcome.PASS
    )
    assert judge("gemini_function_args", request, called({"city": 3}), validators) is Outcome.FAIL
    assert judge("gemini_function_args", request, called({}, "other"), validators) is Outcome.FAIL
    assert judge("gemini_function_args", request, assemble(GOOD), validators) is Outcome.FAIL


def test_geminis_schema_dialect_as_json_schema() -> None:
    assert json_schema({"type": "OBJECT", "nullable": True, "propertyOrdering": ["a"]}) == {
        "type": ["object", "null"]
    }
    assert json_schema({"type": "ARRAY", "items": {"type": "STRING", "enum": ["a"]}}) == {
        "type": "array",
        "items": {"type": "string", "enum": ["a"]},
    }


def test_probes_carry_the_stream_flag_and_the_profiles_model(contracts: ContractSet) -> None:
    streamed = example_probes(contracts.get("gemini.stream_generate_content"), Profile())
    assert [(p.query, p.streamed) for p in streamed][:2] == [({"alt": "sse"}, True), ({}, False)]
    profile = Profile(models={"gemini-native": "gemini-2.5-flash"})
    [first, *_] = example_probes(contracts.get("gemini.generate_content"), profile)
    assert first.path == "/v1beta/models/gemini-2.5-flash:generateContent"
