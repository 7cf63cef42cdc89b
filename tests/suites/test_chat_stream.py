"""Each breakage of the chat stream grammar fails the check aimed at it, and only that one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from suites.chat_stream import CHECKS, check_chat_stream
from suites.findings import Outcome
from suites.streams import Arrival, StreamLimits, StreamRecord, read_sse

TOOL = {
    "type": "function",
    "function": {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "required": ["a"],
        },
    },
}
REQUEST = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "Say hello."}],
    "stream": True,
    "n": 2,
    "stream_options": {"include_usage": True},
}


@pytest.fixture(scope="module")
def paced_url(contracts: ContractSet) -> Iterator[str]:
    with serve_in_thread(create_app(contracts, MockConfig(ttfe=0.01, interval=0.01))) as url:
        yield url


def fetch(url: str, body: dict) -> StreamRecord:
    with httpx.Client(timeout=httpx.Timeout(10, read=5)) as c:
        sent = time.monotonic()
        with c.stream(
            "POST", f"{url}/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}
        ) as r:
            return read_sse(r, StreamLimits(stall=5), sent)


def outcomes(contracts: ContractSet, record: StreamRecord, body: dict) -> dict[str, Outcome]:
    schema = {"$ref": "#/components/schemas/ChatCompletionChunk"}
    found = check_chat_stream("op", record, body, Validators(contracts.components), schema)
    return {f.check_id: f.outcome for f in found}


def test_the_mock_passes_every_check(contracts: ContractSet, paced_url: str) -> None:
    for body in (REQUEST, {**REQUEST, "tools": [TOOL], "n": 1}):
        got = outcomes(contracts, fetch(paced_url, body), body)
        assert set(got) == set(CHECKS) and set(got.values()) == {Outcome.PASS}, got


def _edit(record: StreamRecord, change: Callable[[list[dict]], list]) -> StreamRecord:
    chunks = [json.loads(a.data) for a in record.arrivals if a.data != "[DONE]"]
    datas = change(chunks)
    arrivals = [
        Arrival(i * 0.01, "", d if isinstance(d, str) else json.dumps(d))
        for i, d in enumerate(datas)
    ]
    return replace(record, arrivals=arrivals)


def _without_usage(chunks: list[dict]) -> list:
    return [*chunks[:-1], "[DONE]"]


def _two_finishes(chunks: list[dict]) -> list:
    c = json.loads(json.dumps(chunks))
    c[1]["choices"][0]["finish_reason"] = "stop"
    return [*c, "[DONE]"]


def _no_role(chunks: list[dict]) -> list:
    c = json.loads(json.dumps(chunks))
    del c[0]["choices"][0]["delta"]["role"]
    return [*c, "[DONE]"]


def _new_id(chunks: list[dict]) -> list:
    c = json.loads(json.dumps(chunks))
    c[2]["id"] = "chatcmpl-other"
    return [*c, "[DONE]"]


def _bad_object(chunks: list[dict]) -> list:
    c = json.loads(json.dumps(chunks))
    c[1]["object"] = "chat.completion"
    return [*c, "[DONE]"]


BREAKAGES = {
    "sse.terminator": [
        lambda c: c,
        lambda c: [*c, "[DONE]", "[DONE]"],
        lambda c: [*c[:-1], "[DONE]", c[-1]],
    ],
    "sse.usage_chunk": [_without_usage],
    "sse.finish_reason": [
        _two_finishes,
        lambda c: [x for x in c if not x["choices"] or x["choices"][0]["index"] == 0] + ["[DONE]"],
    ],
    "sse.role_first": [_no_role],
    "sse.consistent_ids": [_new_id],
    "sse.event_schema": [_bad_object],
}


@pytest.mark.parametrize(
    ("check", "index"), [(k, i) for k, v in BREAKAGES.items() for i in range(len(v))]
)
def test_one_breakage_fails_one_check(
    contracts: ContractSet, paced_url: str, check: str, index: int
) -> None:
    good = fetch(paced_url, REQUEST)
    broken = _edit(good, BREAKAGES[check][index])
    got = outcomes(contracts, broken, REQUEST)
    failed = {k for k, v in got.items() if v is Outcome.FAIL}
    assert failed == {check}, got


def test_broken_tool_fragments(contracts: ContractSet, paced_url: str) -> None:
    body = {**REQUEST, "tools": [TOOL], "n": 1, "stream_options": None}
    good = fetch(paced_url, body)

    def cut(chunks: list[dict]) -> list:
        # drop the last arguments fragment, as a relay that loses a chunk would
        last = max(
            i
            for i, x in enumerate(chunks)
            if x["choices"]
            and any(
                (tc.get("function") or {}).get("arguments")
                for tc in x["choices"][0]["delta"].get("tool_calls") or []
            )
        )
        return [*chunks[:last], *chunks[last + 1 :], "[DONE]"]

    got = outcomes(contracts, _edit(good, cut), body)
    assert {k for k, v in got.items() if v is Outcome.FAIL} == {"sse.tool_arguments"}


def test_a_burst_fails_only_streamed(contracts: ContractSet, paced_url: str) -> None:
    good = fetch(paced_url, REQUEST)
    burst = replace(good, arrivals=[replace(a, at=0.5) for a in good.arrivals])
    got = outcomes(contracts, burst, REQUEST)
    assert {k for k, v in got.items() if v is Outcome.FAIL} == {"sse.streamed"}
