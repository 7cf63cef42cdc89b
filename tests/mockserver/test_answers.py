"""Kept answers (mockserver/answers.py): a request that comes again is answered from what the
mock wrote, with fresh ids and the current time, and never in place of a different answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver import MockConfig, create_app
from mockserver.answers import AnswerCache, Kept, Template
from mockserver.app import MockRelay
from mockserver.background import serve_in_thread
from mockserver.fault_rules import rules_from_dict
from mockserver.faults import FaultMiddleware
from mockserver.journal import JOURNAL_PATH
from mockserver.render import (
    JSON_RENDERERS,
    REPEATABLE_JSON,
    REPEATABLE_STREAM,
    STREAM_RENDERERS,
    RenderContext,
)
from mockserver.stack import build_stack

KEY = "sk-kept-answers"
AUTH = {"Authorization": f"Bearer {KEY}"}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
ASK = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Weather in Paris and Oslo?"}],
    "tools": TOOLS,
}


@pytest.fixture()
def relay(contracts: ContractSet) -> MockRelay:
    return create_app(contracts, MockConfig(api_keys=frozenset({KEY}), ttfe=0, interval=0))


@pytest.fixture()
def http(relay: MockRelay) -> Iterator[httpx.Client]:
    with (
        serve_in_thread(relay) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        yield client


def _ids(answer: dict[str, Any]) -> list[str]:
    calls = answer["choices"][0]["message"].get("tool_calls") or []
    return [answer["id"], *(c["id"] for c in calls)]


def _without_ids(answer: dict[str, Any]) -> str:
    text = json.dumps(answer, sort_keys=True)
    for minted in _ids(answer):
        text = text.replace(minted, "<id>")
    return text.replace(str(answer["created"]), "<now>")


def test_a_request_that_comes_again_gets_the_same_answer_with_fresh_ids(
    relay: MockRelay, http: httpx.Client
) -> None:
    first = http.post("/v1/chat/completions", json=ASK)
    assert len(relay.answers) == 0  # seen once: nothing kept
    again = [http.post("/v1/chat/completions", json=ASK) for _ in range(3)]
    assert relay.answers.hits == 2 and len(relay.answers) == 1  # kept the second time
    answers = [r.json() for r in (first, *again)]
    assert answers[0]["choices"][0]["finish_reason"] == "tool_calls"
    assert len({_without_ids(a) for a in answers}) == 1  # the same answer...
    minted = [i for a in answers for i in _ids(a)]
    assert len(minted) == len(set(minted)) >= 4 * 2  # ...with ids never given before
    assert all(i.startswith(("chatcmpl-", "call_")) and len(i.split("-")[-1]) >= 24 for i in minted)
    assert abs(answers[-1]["created"] - time.time()) < 5
    for r in again:  # the headers the first answer had, with its own request id
        assert r.headers["content-type"] == first.headers["content-type"]
        assert r.headers["x-relaykit-operation"] == first.headers["x-relaykit-operation"]
        assert r.headers["x-request-id"] != first.headers["x-request-id"]
        assert int(r.headers["content-length"]) == len(r.content)


def test_an_sdk_tool_loop_on_kept_answers_gets_fresh_call_ids(
    relay: MockRelay, http: httpx.Client
) -> None:
    base = str(http.base_url).rstrip("/")
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)
    seen: set[str] = set()
    for _ in range(3):  # the same conversation three times: the last one from a kept answer
        messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        calls = reply.choices[0].message.tool_calls or []
        assert calls and not {c.id for c in calls} & seen
        seen |= {c.id for c in calls}
        messages += [reply.choices[0].message.model_dump(exclude_none=True)]
        messages += [{"role": "tool", "tool_call_id": c.id, "content": "18°C"} for c in calls]
        final = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        assert final.choices[0].finish_reason == "stop" and "18°C" in (
            final.choices[0].message.content or ""
        )
    assert relay.answers.hits == 1  # the opening turn, kept the second time; each close differs


def test_a_changed_request_or_a_refused_key_is_never_answered_from_a_kept_one(
    relay: MockRelay, http: httpx.Client
) -> None:
    for _ in range(2):
        http.post("/v1/chat/completions", json=ASK)
    assert len(relay.answers) == 1
    other = http.post("/v1/chat/completions", json={**ASK, "tool_choice": "none"})
    assert other.json()["choices"][0]["finish_reason"] == "stop"
    refused = http.post("/v1/chat/completions", json=ASK, headers={"Authorization": "Bearer no"})
    assert refused.status_code == 401 and relay.answers.hits == 0
    streamed = http.post("/v1/chat/completions", json={**ASK, "stream": True})
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert relay.answers.hits == 0


def test_a_refused_request_keeps_its_body_unread_in_the_journal(contracts: ContractSet) -> None:
    stack = build_stack(contracts, MockConfig(api_keys=frozenset({KEY})))
    with (
        serve_in_thread(stack.app) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as http,
    ):
        for _ in range(3):
            assert http.post("/v1/chat/completions", json=ASK).status_code == 200
        r = http.post("/v1/chat/completions", json=ASK, headers={"Authorization": "Bearer no"})
        assert r.status_code == 401
        entries = http.get(JOURNAL_PATH).json()["data"]
    assert stack.relay.answers.hits == 1
    assert [e["body_kind"] for e in entries] == ["json", "json", "json", "unread"]
    assert entries[0]["operation"].startswith("openai.chat.")
    # the refused body was never read: the chat operations sharing the route stay undecided
    assert [e["operation"] for e in entries] == [entries[0]["operation"]] * 3 + [None]


def test_times_derived_from_the_clock_are_not_frozen() -> None:
    now = 1_800_000_000
    plain = orjson.dumps({"id": "chatcmpl-" + "a" * 24, "created": now, "n": 123})
    assert Template.of(plain, ["chatcmpl-" + "a" * 24], now) is not None
    derived = orjson.dumps({"created": now, "expires_at": now + 3600})
    assert Template.of(derived, [], now) is None


def test_a_template_refills_each_id_wherever_it_recurs() -> None:
    now = 1_800_000_000
    one, two = "chatcmpl-" + "a" * 24, "call_" + "b" * 24
    data = orjson.dumps([{"id": one, "created": now}, {"id": one, "call": two}, {"n": now}])
    filled = orjson.loads(Template.of(data, [one, two, one], now).fill())  # type: ignore[union-attr]
    assert filled[0]["id"] == filled[1]["id"] != one and filled[1]["call"] != two
    assert filled[0]["id"].startswith("chatcmpl-") and filled[1]["call"].startswith("call_")
    assert filled[0]["created"] == filled[2]["n"] and abs(filled[0]["created"] - time.time()) < 5


def test_kept_answers_are_bounded_least_recently_used_out() -> None:
    cache = AnswerCache(max_bytes=3 * (256 + 100 + 10))
    kept = Kept(200, (), Template((b"x" * 100,), (), ()), None)
    keys = [("POST", "/v1/x", b"", (), "http", None, "", f"{i:010d}".encode()) for i in range(4)]
    for key in keys[:3]:
        cache.keep(key, kept)
    assert cache.get(keys[0]) is kept  # now the most recently used
    cache.keep(keys[3], kept)
    assert len(cache) == 3 and cache.get(keys[1]) is None and cache.get(keys[0]) is kept
    cache.clear()
    assert len(cache) == 0 and cache.get(keys[0]) is None
    few = AnswerCache(max_entries=2)
    for key in keys:
        few.keep(key, kept)
    assert len(few) == 2 and few.get(keys[3]) is kept and few.get(keys[1]) is None


def test_an_answer_is_wanted_the_second_time_its_request_comes() -> None:
    cache = AnswerCache()
    key = ("POST", "/v1/x", b"", (), "http", None, "", b"{}")
    assert [cache.wanted(key), cache.wanted(key)] == [False, True]
    cache.keep(key, Kept(200, (), Template((b"{}",), (), ()), None))
    assert cache.wanted(key) is False  # kept already


Renders = Callable[[RenderContext], bytes]


def _answer_as_bytes(name: str) -> Renders:
    return lambda ctx: orjson.dumps(JSON_RENDERERS[name](ctx))


def _events_as_bytes(name: str) -> Renders:
    return lambda ctx: orjson.dumps([(e.name, e.data) for e in STREAM_RENDERERS[name](ctx)])


def _renderings(contracts: ContractSet, stream: bool) -> Iterator[tuple[str, list[str | None]]]:
    """Each example of each repeatable operation rendered at two times, with the minted ids
    and the time written as placeholders (None: an answer with a clock-derived time, which is
    never kept)."""
    validators = Validators(contracts.components)
    for op in contracts:
        if stream:
            if op.stream is None or op.stream.render not in REPEATABLE_STREAM:
                continue
            examples, render = op.stream.examples, _events_as_bytes(op.stream.render)
        else:
            if op.response.render not in REPEATABLE_JSON:
                continue
            examples, render = op.response.examples, _answer_as_bytes(op.response.render)
        bodies = [e.value for e in op.request.examples if isinstance(e.value, dict)] or [{}]
        for example in (e for e in examples if e.servable):
            for body in bodies:
                outs: list[str | None] = []
                for now in (1_800_000_000, 1_800_000_500):
                    ctx = RenderContext(
                        op=op, body=body, example=example, validators=validators, now=now
                    )
                    data = render(ctx)
                    assert not ctx.after, op.id
                    if Template.of(data, ctx.minted, now) is None:
                        outs.append(None)
                        continue
                    out = data.decode()
                    for minted in ctx.minted:
                        out = out.replace(minted, f"<{minted[:-24]}>")
                    outs.append(out.replace(str(now), "<now>"))
                yield f"{op.id} {example.name}", outs


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_repeatable_renderers_answer_each_example_the_same_way_twice(
    contracts: ContractSet, stream: bool
) -> None:
    """What REPEATABLE_JSON and REPEATABLE_STREAM promise: apart from minted ids and the clock,
    a function of the request."""
    checked = 0
    for name, outs in _renderings(contracts, stream):
        if None not in outs:
            assert outs[0] == outs[1], name
            checked += 1
    assert checked >= (5 if stream else 20)


def _chunks(r: httpx.Response) -> list[dict[str, Any]]:
    frames = [f.removeprefix("data: ") for f in r.text.split("\n\n") if f]
    assert frames[-1] == "[DONE]"
    return [json.loads(f) for f in frames[:-1]]


def test_a_stream_that_comes_again_is_replayed_with_fresh_ids(
    relay: MockRelay, http: httpx.Client
) -> None:
    ask = {**ASK, "stream": True, "stream_options": {"include_usage": True}}
    streams = [_chunks(http.post("/v1/chat/completions", json=ask)) for _ in range(3)]
    assert relay.answers.hits == 1 and len(relay.answers) == 1
    ids = [{c["id"] for c in chunks} for chunks in streams]
    assert all(len(one) == 1 for one in ids) and len(set().union(*ids)) == 3  # one per stream

    def calls(chunks: list[dict[str, Any]]) -> list[str]:
        return [
            tc["id"]
            for c in chunks
            for choice in c["choices"]
            for tc in choice["delta"].get("tool_calls") or []
            if tc.get("id")
        ]

    assert calls(streams[0]) and not set(calls(streams[0])) & set(calls(streams[2]))
    for chunks in streams:
        for c in chunks:
            c["id"] = "<id>"
            for choice in c["choices"]:
                for tc in choice["delta"].get("tool_calls") or []:
                    tc.pop("id", None)
            c.pop("created")
    assert streams[0] == streams[2]


def test_a_fault_rule_still_cuts_a_kept_stream(contracts: ContractSet) -> None:
    rules = rules_from_dict({"rules": [{"fault": "cut", "after": 2, "probability": 1.0}]})
    relay = create_app(contracts, MockConfig(ttfe=0, interval=0))
    ask = {**ASK, "stream": True}
    faults = FaultMiddleware(relay, contracts, None)
    with serve_in_thread(faults) as base:
        for _ in range(3):  # kept by the second, answered from it by the third
            assert _chunks(httpx.post(f"{base}/v1/chat/completions", json=ask, headers=AUTH))
        assert relay.answers.hits == 1
        faults.rules = rules
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{base}/v1/chat/completions", json=ask, headers=AUTH)
    assert relay.answers.hits == 2 and faults.applied[-1].outcome == "cut after 2 event(s)"

