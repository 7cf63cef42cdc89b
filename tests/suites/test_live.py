"""Judging live exchanges: the suites' rules under their check ids, on traffic the proxy saw."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.model import ContractSet
from suites.findings import Finding, Outcome
from suites.live import LiveAnswer, LiveJudge, violations, with_evidence
from suites.streams import Arrival, StreamRecord

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def judge(contracts: ContractSet) -> LiveJudge:
    return LiveJudge(contracts)


def _outcomes(findings: list[Finding]) -> dict[str, str]:
    return {f.check_id: f.outcome.value for f in findings}


def _completion(**extra: Any) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hello"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        **extra,
    }
    return json.dumps(body).encode()


def test_request_schema(judge: LiveJudge, contracts: ContractSet) -> None:
    chat = contracts.get("openai.chat.completions.nonstream")
    assert _outcomes(judge.request(chat, CHAT)) == {"request.schema": "pass"}
    (bad,) = judge.request(chat, {"model": "gpt-4o"})
    assert bad.outcome is Outcome.FAIL and "messages" in bad.message
    assert judge.request(chat, None, parsed=False)[0].outcome is Outcome.FAIL
    models = contracts.get("openai.models.list")
    assert judge.request(models, None)[0].outcome is Outcome.SKIP


def test_a_conforming_answer_passes_and_a_broken_one_fails(
    judge: LiveJudge, contracts: ContractSet
) -> None:
    op = contracts.get("openai.chat.completions.nonstream")
    good = judge.response(op, CHAT, LiveAnswer(200, "application/json", _completion()))
    assert violations(good) == []
    assert _outcomes(good)["response.schema"] == "pass"
    assert _outcomes(good)["invariant.choices_len_n"] == "pass"
    broken = json.loads(_completion())
    del broken["choices"]
    bad = judge.response(op, CHAT, LiveAnswer(200, "application/json", json.dumps(broken).encode()))
    assert "response.schema" in violations(bad)
    wrong_type = judge.response(op, CHAT, LiveAnswer(200, "text/html", b"<html>"))
    assert {"response.content_type", "response.schema"} <= set(violations(wrong_type))


def test_error_answers_are_judged_by_status_and_envelope(
    judge: LiveJudge, contracts: ContractSet
) -> None:
    op = contracts.get("openai.chat.completions.nonstream")
    envelope = json.dumps(
        {"error": {"message": "slow", "type": "rate_limit_exceeded", "param": None, "code": "x"}}
    ).encode()
    ok = judge.response(op, CHAT, LiveAnswer(429, "application/json", envelope))
    assert _outcomes(ok) == {"response.status": "pass", "errors.envelope": "pass"}
    bare = judge.response(op, CHAT, LiveAnswer(500, "text/plain", b"oops"))
    assert violations(bare) == ["errors.envelope"]
    odd = judge.response(op, CHAT, LiveAnswer(418, "application/json", envelope))
    assert violations(odd) == ["response.status"]
    redirected = judge.response(op, CHAT, LiveAnswer(302, "text/html", b""))
    assert violations(redirected) == ["response.status"]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o",
            "choices": [choice],
        }
    )


def _record(*data: str) -> StreamRecord:
    return StreamRecord([Arrival(0.01 * (i + 1), "", d) for i, d in enumerate(data)])


def test_streams_use_the_grammar_checkers(judge: LiveJudge, contracts: ContractSet) -> None:
    op = contracts.get("openai.chat.completions.stream")
    body = {**CHAT, "stream": True}
    good = _record(
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "hello"}),
        _chunk({}, "stop"),
        "[DONE]",
    )
    judged = judge.response(op, body, LiveAnswer(200, "text/event-stream", stream=good))
    outcomes = _outcomes(judged)
    assert violations(judged) == []
    assert outcomes["sse.terminator"] == "pass" and outcomes["sse.streamed"] == "pass"
    assert outcomes["invariant.choices_len_n"] == "pass"  # on the assembled stream
    cut = _record(_chunk({"role": "assistant", "content": ""}), _chunk({"content": "hel"}))
    cut.ended = "transport"
    judged = judge.response(op, body, LiveAnswer(200, "text/event-stream", stream=cut))
    assert {"sse.terminator", "sse.finish_reason"} <= set(violations(judged))
    as_json = judge.response(op, body, LiveAnswer(200, "application/json", _completion()))
    assert "response.content_type" in violations(as_json)


def test_evidence_is_attached_and_scrubbed() -> None:
    stream = _record("a", "[DONE]")
    findings = [
        Finding("op", "sse.terminator", Outcome.FAIL, "saw sk-live-secret-123456789"),
        Finding("op", "response.status", Outcome.PASS, "fine"),
    ]
    out = with_evidence(
        findings,
        "proxy#7",
        {"method": "POST"},
        {"status": 200},
        stream,
        lambda text: text.replace("sk-live-secret-123456789", "[REDACTED]"),
    )
    assert [f.source for f in out] == ["proxy#7", "proxy#7"]
    assert out[0].message == "saw [REDACTED]" and len(out[0].events) == 2
    assert out[0].timings["ttfe"] == 0.01 and out[1].events == []
    assert out[1].request == {"method": "POST"} and out[1].response == {"status": 200}
