"""Why the core checks are ``breaks-clients``: the official openai SDK on each broken answer.

Each test serves the answer a failing check describes (through ``httpx.MockTransport``, so the
SDK's own HTTP client, SSE decoder and models do the reading) and shows what the SDK does with
it: it raises, or it returns wrong data without a word. Where it tolerates the defect the test
says so, and shows which client does not, or why tolerating it is the harm (a stream without
``[DONE]`` ends exactly like a stream cut in the middle). Where cheap, the same bytes are judged
by relaykit's own rule, to show the check fails on exactly what the SDK breaks on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pydantic
import pytest
from httpx_sse import SSEError, connect_sse

from contracts.model import ContractSet
from contracts.validation import Validators
from suites import judges
from suites.chat_stream import check_chat_stream
from suites.findings import Outcome
from suites.severity import SEVERITY, Severity
from suites.streams import Arrival, StreamRecord

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "http://relay.test/v1"
CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
USAGE = {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10}
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": USAGE,
}
BACKED = (
    "response.status",
    "response.schema",
    "response.content_type",
    "sse.framing",
    "sse.event_schema",
    "sse.terminator",
    "sse.tool_arguments",
    "invariant.usage_total",
    "auth.wrong_key",
)
"""The core checks whose breaks-clients rating this file backs."""


def sdk(handler: Handler) -> openai.OpenAI:
    """The official SDK reading whatever ``handler`` answers (no retries: one answer, one try)."""
    transport = httpx.MockTransport(handler)
    return openai.OpenAI(
        api_key="sk-test",
        base_url=BASE,
        max_retries=0,
        http_client=httpx.Client(transport=transport),
    )


def answer(
    status: int = 200,
    body: Any = None,
    *,
    raw: bytes | None = None,
    ctype: str = "application/json",
) -> Handler:
    content = raw if raw is not None else json.dumps(body).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": ctype})

    return handle


def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return json.dumps({**head, "choices": choices, **extra})


def delta(finish: str | None = None, **fields: Any) -> str:
    return chunk([{"index": 0, "delta": fields, "finish_reason": finish}])


def sse(data: list[str], ctype: str = "text/event-stream") -> Handler:
    return answer(raw="".join(f"data: {d}\n\n" for d in data).encode(), ctype=ctype)


def stream_rules(
    contracts: ContractSet, data: list[str], request: dict[str, Any]
) -> dict[str, Outcome]:
    """relaykit's chat stream rules on the same events."""
    record = StreamRecord([Arrival(i * 0.01, "", d) for i, d in enumerate(data)])
    schema = {"$ref": "#/components/schemas/ChatCompletionChunk"}
    found = check_chat_stream("op", record, request, Validators(contracts.components), schema)
    return {f.check_id: f.outcome for f in found}


WHOLE = [delta(role="assistant", content="Hi"), delta("stop"), "[DONE]"]


def test_these_are_the_breaks_clients_checks() -> None:
    assert {check: SEVERITY[check] for check in BACKED} == dict.fromkeys(
        BACKED, Severity.BREAKS_CLIENTS
    )


def test_response_status_of_the_wrong_class_raises() -> None:
    """A documented request answered 4xx or 5xx: the SDK raises, the caller gets no answer."""
    with pytest.raises(openai.InternalServerError):
        sdk(answer(500, {"error": {"message": "upstream failed"}})).chat.completions.create(**CHAT)
    with pytest.raises(openai.NotFoundError):
        sdk(answer(404, {"error": {"message": "no route"}})).chat.completions.create(**CHAT)
    # the same class is read as usual: a 201 for a documented 200 is not what breaks clients
    created = sdk(answer(201, COMPLETION)).chat.completions.create(**CHAT)
    assert created.choices[0].message.content == "Hi"


def test_response_schema_without_choices_or_id(contracts: ContractSet) -> None:
    """No choices: reading the answer raises. No id: the SDK returns None where its type says
    str, without a word."""
    op = contracts.get("openai.chat.completions.nonstream")
    validators = Validators(contracts.components)
    no_choices = {k: v for k, v in COMPLETION.items() if k != "choices"}
    completion = sdk(answer(body=no_choices)).chat.completions.create(**CHAT)
    with pytest.raises(TypeError):
        print(completion.choices[0])  # the read a client does
    no_id = {k: v for k, v in COMPLETION.items() if k != "id"}
    assert sdk(answer(body=no_id)).chat.completions.create(**CHAT).id is None
    for body in (no_choices, no_id):
        verdict = judges.body_schema(op, validators, "application/json", body)
        assert verdict.outcome is Outcome.FAIL and not verdict.severity  # the check's own: B


def test_response_content_type() -> None:
    """An answer not labelled JSON: the Python SDK returns the page as a str instead of a
    completion; a JSON body labelled text/plain it still parses (openai-node does not: its
    defaultParseResponse returns the text of any non-JSON media type as a string). A stream not
    labelled text/event-stream: the SDK reads it anyway, httpx-sse refuses it."""
    page = sdk(answer(raw=b"<html>Welcome</html>", ctype="text/html"))
    result: Any = page.chat.completions.create(**CHAT)
    assert isinstance(result, str) and not hasattr(result, "choices")
    tolerated = sdk(answer(body=COMPLETION, ctype="text/plain")).chat.completions.create(**CHAT)
    assert tolerated.choices[0].message.content == "Hi"  # the Python SDK tolerates this one
    mislabelled = sse(WHOLE, ctype="application/json")
    chunks = list(sdk(mislabelled).chat.completions.create(**CHAT, stream=True))
    assert len(chunks) == 2  # tolerated by the Python SDK...
    with (
        httpx.Client(transport=httpx.MockTransport(mislabelled)) as client,
        connect_sse(client, "POST", f"{BASE}/chat/completions") as events,
        pytest.raises(SSEError, match="text/event-stream"),  # ...refused by httpx-sse
    ):
        list(events.iter_sse())


def test_sse_framing_an_event_that_is_not_json_raises(contracts: ContractSet) -> None:
    broken = [
        delta(role="assistant", content="Hi"),
        '{"choices": [{"delta": ',
        delta("stop"),
        "[DONE]",
    ]
    with pytest.raises(json.JSONDecodeError):
        list(sdk(sse(broken)).chat.completions.create(**CHAT, stream=True))
    assert stream_rules(contracts, broken, {**CHAT, "stream": True})["sse.framing"] is Outcome.FAIL


def test_sse_event_schema_a_chunk_without_choices_breaks_the_read(contracts: ContractSet) -> None:
    no_choices = json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1})
    events = [delta(role="assistant", content="Hi"), no_choices, delta("stop"), "[DONE]"]
    stream = sdk(sse(events)).chat.completions.create(**CHAT, stream=True)
    with pytest.raises(TypeError):
        for c in stream:
            print(c.choices[0].delta.content)  # the loop every streaming client writes
    rules = stream_rules(contracts, events, {**CHAT, "stream": True})
    assert rules["sse.event_schema"] is Outcome.FAIL


def test_sse_terminator_a_missing_done_hides_a_cut_stream(contracts: ContractSet) -> None:
    """The SDK ends a stream without [DONE] silently, with the same chunks as a whole one, and
    ends a stream cut in the middle just as silently: the client gets half an answer and no
    error. Only [DONE] tells a whole answer from a truncated one, so its absence breaks them."""

    def read(data: list[str]) -> list[dict[str, Any]]:
        stream = sdk(sse(data)).chat.completions.create(**CHAT, stream=True)
        return [c.model_dump() for c in stream]

    assert read(WHOLE[:-1]) == read(WHOLE)  # no [DONE]: nothing tells the SDK
    cut = WHOLE[:1]  # the relay dropped the connection after the first delta
    assert len(read(cut)) == 1  # no exception either
    with sdk(sse(cut)).chat.completions.stream(**CHAT) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hi" and final.choices[0].finish_reason is None
    for data in (WHOLE[:-1], cut):
        assert stream_rules(contracts, data, {**CHAT, "stream": True})["sse.terminator"] is (
            Outcome.FAIL
        )


class Weather(pydantic.BaseModel):
    city: str


def test_sse_tool_arguments_that_do_not_join_into_json(contracts: ContractSet) -> None:
    """Fragments that join into invalid JSON: json.loads raises in the client, and the SDK's own
    tool helper raises while it parses them."""

    def call(args: str, first: bool = False) -> str:
        fn: dict[str, Any] = {"arguments": args}
        head: dict[str, Any] = {"id": "call_1", "type": "function"} if first else {}
        if first:
            fn["name"] = "Weather"
        return delta(tool_calls=[{"index": 0, **head, "function": fn}])

    events = [
        delta(role="assistant"),
        call('{"city": ', first=True),
        call('"Paris"}}'),
        delta("tool_calls"),
        "[DONE]",
    ]
    tool = openai.pydantic_function_tool(Weather)
    stream = sdk(sse(events)).chat.completions.create(**CHAT, stream=True, tools=[tool])
    joined = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in stream
        if c.choices and c.choices[0].delta.tool_calls and c.choices[0].delta.tool_calls[0].function
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(joined)
    with (
        pytest.raises(pydantic.ValidationError),
        sdk(sse(events)).chat.completions.stream(**CHAT, tools=[tool]) as helper,
    ):
        for _ in helper:
            pass
        helper.get_final_completion()
    request = {**CHAT, "stream": True, "tools": [tool]}
    assert stream_rules(contracts, events, request)["sse.tool_arguments"] is Outcome.FAIL


def test_usage_missing_leaves_the_client_nothing_to_bill() -> None:
    """Without usage the SDK gives None where relays and their users count tokens; a stream that
    was asked for its usage chunk and sent none ends with usage None as well."""
    no_usage = {k: v for k, v in COMPLETION.items() if k != "usage"}
    assert sdk(answer(body=no_usage)).chat.completions.create(**CHAT).usage is None
    asked = {**CHAT, "stream_options": {"include_usage": True}}
    with sdk(sse(WHOLE)).chat.completions.stream(**asked) as stream:
        for _ in stream:
            pass
        assert stream.get_final_completion().usage is None
    with_usage = [*WHOLE[:-1], chunk([], usage=USAGE), "[DONE]"]
    with sdk(sse(with_usage)).chat.completions.stream(**asked) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion().usage
        assert final is not None and final.total_tokens == 10


def test_auth_wrong_key_answered_400_escapes_the_auth_handler() -> None:
    """A wrong key answered 400: the SDK raises BadRequestError, so a client's
    ``except openai.AuthenticationError`` (rotate the key, ask for a new one) never runs."""
    envelope = {"error": {"message": "invalid key", "type": "invalid_request_error"}}
    with pytest.raises(openai.BadRequestError) as raised:
        sdk(answer(400, envelope)).chat.completions.create(**CHAT)
    assert not isinstance(raised.value, openai.AuthenticationError)
    with pytest.raises(openai.AuthenticationError):  # what a 401 gives
        sdk(answer(401, envelope)).chat.completions.create(**CHAT)
