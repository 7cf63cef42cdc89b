"""The official openai SDK's Responses API (strict response validation on) against the mock:
create, parse, stream, a tool loop through previous_response_id, and the stored responses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

from contracts.wire.sse import SseParser
from tests.serving import relaykit_serve

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
}
LONG = "Write a long story about a lighthouse keeper and the sea, with many details."


def _adds_up(usage: Any) -> None:
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert 0 <= usage.output_tokens_details.reasoning_tokens <= usage.output_tokens


def test_create_answers_a_string_input(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="Say hello in one short sentence.")
    assert r.id.startswith("resp_") and r.object == "response" and r.status == "completed"
    assert r.model == "gpt-4o-mini" and r.output_text
    assert [item.type for item in r.output] == ["message"]
    assert r.usage is not None and r.usage.output_tokens > 0
    _adds_up(r.usage)
    again = client.responses.create(model="gpt-4o-mini", input="Say hello in one short sentence.")
    assert again.id != r.id


def test_instructions_and_structured_input_count_as_input(client: openai.OpenAI) -> None:
    plain = client.responses.create(model="gpt-4o-mini", input="What is the capital of France?")
    r = client.responses.create(
        model="gpt-4o-mini",
        instructions="You are a concise assistant. Answer in one sentence.",
        input=[
            {"role": "user", "content": [{"type": "input_text", "text": "What is the capital?"}]},
        ],
    )
    assert r.status == "completed" and r.instructions and r.output_text
    assert r.usage and plain.usage and r.usage.input_tokens > plain.usage.input_tokens


def test_json_schema_output_parses_into_the_model(client: openai.OpenAI) -> None:
    class City(BaseModel):
        city: str
        country: str

    r = client.responses.parse(model="gpt-4o-mini", input="A city, please.", text_format=City)
    assert isinstance(r.output_parsed, City)
    assert set(json.loads(r.output_text)) == {"city", "country"}


def test_max_output_tokens_leaves_the_response_incomplete(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input=LONG, max_output_tokens=16)
    assert r.status == "incomplete" and r.incomplete_details
    assert r.incomplete_details.reason == "max_output_tokens"
    assert r.usage and r.usage.output_tokens <= 16 and r.output_text
    _adds_up(r.usage)


def test_a_reasoning_model_reasons_first_and_counts_it(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model="o4-mini", input="Primes below 30?", reasoning={"effort": "low", "summary": "auto"}
    )
    assert [item.type for item in r.output] == ["reasoning", "message"]
    reasoning = r.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary and reasoning.summary[0].text
    assert r.usage and r.usage.output_tokens_details.reasoning_tokens > 0
    _adds_up(r.usage)
    cut = client.responses.create(model="o4-mini", input=LONG, max_output_tokens=16)
    assert cut.status == "incomplete" and cut.usage and cut.usage.output_tokens == 16


def test_stream_reaches_completed_with_the_joined_text(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Say hello.") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.completed" and kinds.count("response.completed") == 1
    numbers = [e.sequence_number for e in events]
    assert numbers == sorted(set(numbers))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    done = next(e for e in events if e.type == "response.output_text.done")
    assert deltas == done.text == final.output_text and final.status == "completed"
    assert final.usage is not None
    _adds_up(final.usage)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-4o-mini", "input": "Say hello."},
        {"model": "o4-mini", "input": "Hi", "reasoning": {"effort": "low", "summary": "auto"}},
        {"model": "gpt-4o-mini", "input": "Weather in Paris?", "tools": [WEATHER, TIME]},
        {"model": "gpt-4o-mini", "input": LONG, "max_output_tokens": 16},
    ],
    ids=["text", "reasoning", "tools", "cut"],
)
def test_every_streamed_event_is_what_the_sdk_types_say(mock_url: str, body: Any) -> None:
    """Each event validated strictly against the SDK's ResponseStreamEvent union."""
    r = httpx.post(
        f"{mock_url}/v1/responses",
        json={**body, "stream": True},
        headers={"Authorization": "Bearer k"},
    )
    events = SseParser().feed(r.content, final=True)
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    parsed = [adapter.validate_python(json.loads(e.data)) for e in events]
    assert [e.event for e in events] == [p.type for p in parsed]
    assert [p.sequence_number for p in parsed] == list(range(len(parsed)))
    assert parsed[-1].type in ("response.completed", "response.incomplete")


def test_a_cut_stream_ends_with_response_incomplete(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(model="gpt-4o-mini", input=LONG, max_output_tokens=16, stream=True)
    )
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


def test_a_streamed_call_carries_its_arguments_in_deltas(client: openai.OpenAI) -> None:
    with client.responses.stream(
        model="gpt-4o-mini", input="Weather in Paris?", tools=[WEATHER], tool_choice="required"
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    joined = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    call = final.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(joined) == json.loads(call.arguments)
    assert set(json.loads(call.arguments)) == {"city", "unit"}


def test_a_tool_loop_through_previous_response_id_ends_in_text(client: openai.OpenAI) -> None:
    first = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    arguments = json.loads(calls[0].arguments)
    assert arguments["unit"] in ("celsius", "fahrenheit")
    second = client.responses.create(
        model="gpt-4o-mini",
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18°C, clear"}
        ],
    )
    assert second.status == "completed" and second.previous_response_id == first.id
    assert "18°C, clear" in second.output_text
    assert not [item for item in second.output if item.type == "function_call"]
    assert second.usage and first.usage and second.usage.input_tokens > first.usage.input_tokens


def test_tool_choice_is_honoured(client: openai.OpenAI) -> None:
    ask = "Weather in Paris?"
    none = client.responses.create(
        model="gpt-4o-mini", input=ask, tools=[WEATHER, TIME], tool_choice="none"
    )
    assert [item.type for item in none.output] == ["message"]
    named = client.responses.create(
        model="gpt-4o-mini",
        input=ask,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "name": "get_time"},
    )
    assert [(i.type, getattr(i, "name", None)) for i in named.output] == [
        ("function_call", "get_time")
    ]


def test_stored_responses_are_retrieved_listed_and_deleted(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="Say hello.")
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text
    items = client.responses.input_items.list(r.id)
    assert [(i.type, getattr(i, "role", None)) for i in items.data] == [("message", "user")]
    assert items.first_id == items.data[0].id and not items.has_more
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError) as err:
        client.responses.retrieve(r.id)
    assert r.id in err.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="gpt-4o-mini", input="Go on.", previous_response_id=r.id)
    assert "previous_response_id" in str(bad.value.body)


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", input="Say hello.", store=False)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_input_items_page_in_both_orders(client: openai.OpenAI) -> None:
    said = [{"role": "user", "content": f"line {n}"} for n in range(3)]
    r = client.responses.create(model="gpt-4o-mini", input=said)  # type: ignore[arg-type]
    newest = client.responses.input_items.list(r.id, limit=2)
    assert len(newest.data) == 2 and newest.has_more
    oldest = client.responses.input_items.list(r.id, order="asc")
    ids = [i.id for i in oldest.data]
    assert [i.id for i in newest.data] == ids[::-1][:2]
    rest = client.responses.input_items.list(r.id, order="asc", after=ids[0])
    assert [i.id for i in rest.data] == ids[1:]


def test_any_worker_answers_for_a_stored_response() -> None:
    """relaykit serve --workers 2: the store is the state directory's, shared by both."""
    with relaykit_serve("--workers", "2") as url:
        first = _create(url, "Weather in Paris?", tools=[WEATHER])
        call = next(item for item in first["output"] if item["type"] == "function_call")
        for _ in range(6):  # a fresh connection each time: either worker may take it
            with httpx.Client(base_url=url, headers={"Authorization": "Bearer sk-x"}) as http:
                got = http.get(f"/v1/responses/{first['id']}")
                assert got.status_code == 200, got.text
                assert got.json()["id"] == first["id"]
        chained = _create(
            url,
            [{"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}],
            tools=[WEATHER],
            previous_response_id=first["id"],
        )
        assert chained["status"] == "completed"
        assert "sunny" in chained["output"][0]["content"][0]["text"]


def _create(url: str, given: Any, **fields: Any) -> dict[str, Any]:
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer sk-x"}) as http:
        r = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": given, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
