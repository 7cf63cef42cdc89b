"""Each deliberate breakage fails the check aimed at it and nothing else; bad streams end in time.

A proxy (broken_relay.py) sits in front of a clean mock and breaks one thing; the run checks a
few operations through it, and the failing (operation, check) pairs must be exactly the ones the
breakage aims at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from suites.findings import Outcome
from suites.plan import make_plan
from suites.profile import Budget, Limits, Profile
from suites.record import RunRecord
from suites.runner import run
from tests.suites.broken_relay import GOOD_KEY, Breakage, BrokenRelay

FAST = Limits(
    rps=0, timeout=10, retries=0, stream_seconds=3, stream_stall=1, task_seconds=10,
    poll_interval=0.05, concurrency=4,
)  # fmt: skip
BIG = Budget(requests=100_000, tokens=10**8, paid_media_calls=10**5)
CHAT = ["openai.chat.completions.stream", "openai.chat.completions.nonstream"]
GEMINI_STREAM = "gemini.stream_generate_content"
RESPONSES = "openai.responses.stream"


@pytest.fixture(scope="module")
def upstream(contracts: ContractSet) -> Iterator[str]:
    config = MockConfig(api_keys=frozenset({GOOD_KEY}), ttfe=0.002, interval=0.01, task_speed=20)
    with serve_in_thread(create_app(contracts, config)) as url:
        yield url


def check_through(
    contracts: ContractSet, upstream: str, breakage: Breakage, only: list[str], **limits: Any
) -> RunRecord:
    profile = Profile(limits=replace(FAST, **limits), budget=BIG)
    plan = make_plan(contracts, profile, only, property_examples=3)
    with serve_in_thread(BrokenRelay(upstream, breakage)) as url:
        return run(contracts, profile, plan, url, GOOD_KEY, seed=1)


def failing(record: RunRecord) -> set[tuple[str, str]]:
    return {k for k, o in record.verdicts().items() if o in (Outcome.FAIL, Outcome.ERROR)}


def _named_events(path: str, block: str) -> list[str]:
    return [f"event: chunk\n{block}"] if block.startswith("data: {") else [block]


def _no_done(path: str, block: str) -> list[str]:
    return [] if block.strip() == "data: [DONE]" else [block]


def _odd_ids(path: str, block: str) -> list[str] | None:
    if not block.startswith("data: {"):
        return None
    chunk = json.loads(block[6:])
    if chunk.get("choices") and chunk["choices"][0].get("finish_reason"):
        chunk["id"] = chunk["id"] + "-other"
    return ["data: " + json.dumps(chunk)]


def _gemini_not_json(path: str, block: str) -> list[str] | None:
    """Every Gemini chunk before a candidate's last one cut short: not JSON."""
    if ":streamGenerateContent" in path and block.startswith("data: {"):
        return None if "finishReason" in block else [block[: len(block) // 2]]
    return None


def _no_terminal_event(path: str, block: str) -> list[str] | None:
    return [] if block.startswith("event: response.completed") else None


def _sequence_back(path: str, block: str) -> list[str] | None:
    """The fourth event of each Responses stream numbered as the second."""
    name, _, data = block.partition("\ndata: ")
    if not name.startswith("event: response."):
        return None
    event = json.loads(data)
    if event.get("sequence_number") != 3:
        return None
    event["sequence_number"] = 1
    return [f"{name}\ndata: {json.dumps(event)}"]


def _bad_usage(path: str, status: int, body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("usage"), dict):
        body["usage"]["total_tokens"] = body["usage"].get("total_tokens", 0) + 7
    return body


def _drop_choice(path: str, status: int, body: Any) -> Any:
    if isinstance(body, dict) and len(body.get("choices") or []) > 1:
        body["choices"] = body["choices"][:-1]
    return body


def _flat_envelope(path: str, status: int, body: Any) -> Any:
    if status >= 400 and isinstance(body, dict) and "error" in body:
        return {"msg": str(body["error"].get("message", "error")), "success": False}
    return body


BREAKAGES = {
    "sse framing": (Breakage(event=_named_events), CHAT, {(CHAT[0], "sse.framing")}),
    "sse terminator": (Breakage(event=_no_done), CHAT, {(CHAT[0], "sse.terminator")}),
    "chunk fields": (Breakage(event=_odd_ids), CHAT, {(CHAT[0], "sse.consistent_ids")}),
    "gemini chunk not json": (
        Breakage(event=_gemini_not_json),
        [GEMINI_STREAM],
        {(GEMINI_STREAM, "gemini.framing")},
    ),
    "responses terminal event": (
        Breakage(event=_no_terminal_event),
        [RESPONSES],
        {(RESPONSES, "sse.terminator")},
    ),
    "responses sequence numbers": (
        Breakage(event=_sequence_back),
        [RESPONSES],
        {(RESPONSES, "sse.sequence_numbers")},
    ),
    "usage": (
        Breakage(body=_bad_usage),
        ["openai.chat.completions.nonstream", "openai.completions"],
        {
            ("openai.chat.completions.nonstream", "invariant.usage_total"),
            ("openai.completions", "invariant.usage_total"),
        },
    ),
    "n": (
        Breakage(body=_drop_choice),
        ["openai.chat.n_choices"],
        {("openai.chat.n_choices", "invariant.choices_len_n")},
    ),
    "error envelope": (
        Breakage(body=_flat_envelope),
        ["openai.chat.completions.nonstream"],
        {("openai.chat.completions.nonstream", "errors.envelope")},
    ),
    "auth": (
        Breakage(accept_wrong_key=True),
        ["openai.chat.completions.nonstream", "openai.models.list", "gemini.count_tokens"],
        {
            ("openai.chat.completions.nonstream", "auth.wrong_key"),
            ("openai.models.list", "auth.wrong_key"),
            ("gemini.count_tokens", "auth.wrong_key"),
        },
    ),
}


def test_the_clean_proxy_breaks_nothing(contracts: ContractSet, upstream: str) -> None:
    only = sorted({op for _, ops, _ in BREAKAGES.values() for op in ops})
    record = check_through(contracts, upstream, Breakage(), only)
    assert failing(record) == set(), _messages(record)
    assert {f.operation_id for f in record.findings if f.outcome is Outcome.PASS} == set(only)


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_breakage_fails_only_its_check(
    contracts: ContractSet, upstream: str, name: str
) -> None:
    breakage, only, expected = BREAKAGES[name]
    record = check_through(contracts, upstream, breakage, only)
    assert failing(record) == expected, _messages(record)


def test_a_task_status_outside_the_contract_fails_states_legal(
    contracts: ContractSet, upstream: str
) -> None:
    def odd_status(path: str, status: int, body: Any) -> Any:  # `success` for `SUCCESS`...
        if "/fetch" in path and isinstance(body, dict) and isinstance(body.get("status"), str):
            body["status"] = body["status"].lower()
        return body

    record = check_through(contracts, upstream, Breakage(body=odd_status), ["mj.task.fetch"])
    assert failing(record) == {("mj.task.fetch", "invariant.task_states_legal")}, _messages(record)


def test_a_stalled_stream_ends_at_the_stall_limit(contracts: ContractSet, upstream: str) -> None:
    record = check_through(
        contracts, upstream, Breakage(stall_after=2), [CHAT[0]], stream_stall=0.5
    )
    term = [f for f in record.findings if f.check_id == "sse.terminator"]
    assert term and all(f.outcome is Outcome.FAIL for f in term)
    assert all("stall" in f.message for f in term), [f.message for f in term]
    assert all(f.timings["elapsed"] < 0.5 + 1.0 for f in term)


def test_an_endless_stream_ends_at_its_cap(contracts: ContractSet, upstream: str) -> None:
    record = check_through(
        contracts, upstream, Breakage(endless=True), [CHAT[0]], stream_seconds=0.5
    )
    term = [f for f in record.findings if f.check_id == "sse.terminator"]
    assert term and all(f.outcome is Outcome.FAIL for f in term)
    assert all("seconds" in f.message or "events" in f.message for f in term)


def _messages(record: RunRecord) -> list[str]:
    return [
        f"{f.operation_id} {f.check_id} {f.outcome.value}: {f.message}"
        for f in record.findings
        if f.outcome in (Outcome.FAIL, Outcome.ERROR)
    ]


def test_schemathesis_findings_fold_into_the_run(contracts: ContractSet, upstream: str) -> None:
    """A models list that breaks its schema fails our schema check and schemathesis's too."""

    def no_list(path: str, status: int, body: Any) -> Any:
        broken = path == "/v1/models" and status == 200
        return {"object": "list", "data": "none"} if broken else body

    record = check_through(contracts, upstream, Breakage(body=no_list), ["openai.models.list"])
    assert failing(record) == {
        ("openai.models.list", "response.schema"),
        ("openai.models.list", "schemathesis"),
    }, _messages(record)
    st = [f for f in record.findings if f.check_id == "schemathesis"]
    assert len(st) == 3 and all("schema" in f.message.lower() for f in st), [f.message for f in st]
