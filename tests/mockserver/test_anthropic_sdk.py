"""The official anthropic SDK against the mock's /v1/messages: typed Message, full stream."""

from __future__ import annotations

import anthropic
import httpx
import pytest

USER = [{"role": "user", "content": "Say hello."}]


@pytest.fixture()
def client(mock_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=mock_url, api_key="sk-ant-mock", _strict_response_validation=True, max_retries=0
    )


def test_message(client: anthropic.Anthropic) -> None:
    m = client.messages.create(model="claude-3-5-sonnet-20241022", max_tokens=64, messages=USER)
    assert m.type == "message" and m.role == "assistant" and m.content[0].type == "text"
    assert m.stop_reason == "end_turn" and m.usage.output_tokens > 0


def test_stream_to_the_end(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-3-5-sonnet-20241022", max_tokens=64, messages=USER
    ) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "end_turn"


def test_named_events_in_order(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/messages",
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        json={
            "model": "claude-3-5-sonnet-20241022",
            "max_tokens": 64,
            "messages": USER,
            "stream": True,
        },
    )
    names = [line[len("event: ") :] for line in r.text.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "[DONE]" not in r.text
    body = [n for n in names if n != "ping"]
    assert (
        body.index("content_block_start")
        < body.index("content_block_delta")
        < body.index("content_block_stop")
    )


def test_errors_in_the_anthropic_envelope(mock_url: str) -> None:
    bad = httpx.post(
        f"{mock_url}/v1/messages",
        headers={"x-api-key": "k"},
        json={"model": "claude-3-5-sonnet-20241022", "messages": USER},
    )
    assert bad.status_code == 400 and bad.json()["type"] == "error"
    assert bad.json()["error"]["type"] == "invalid_request_error"
    nokey = httpx.post(
        f"{mock_url}/v1/messages", json={"model": "m", "max_tokens": 5, "messages": USER}
    )
    assert nokey.status_code == 401 and nokey.json()["error"]["type"] == "authentication_error"


# --- a conversation shaped by the request -----------------------------------------------------

WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "days"],
        "additionalProperties": False,
    },
}
ASK = [{"role": "user", "content": "What's the weather in Paris?"}]
MODEL = "claude-sonnet-4-20250514"


def _input_is_valid(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"city", "unit", "days"}
        and isinstance(value.get("city"), str)
        and isinstance(value.get("days"), int)
        and 1 <= value["days"] <= 7
    )


def test_tool_use_then_end_turn(client: anthropic.Anthropic) -> None:
    first = client.messages.create(model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER])
    assert first.stop_reason == "tool_use" and first.model == MODEL
    use = first.content[-1]
    assert use.type == "tool_use" and use.name == "get_weather" and use.id.startswith("toolu_")
    assert _input_is_valid(use.input)
    turn = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18°C, rain"}],
        },
    ]
    second = client.messages.create(model=MODEL, max_tokens=512, messages=turn, tools=[WEATHER])
    assert second.stop_reason == "end_turn" and second.content[0].type == "text"
    assert "18°C, rain" in second.content[0].text
    assert second.id != first.id and first.id.startswith("msg_")
    assert second.usage.input_tokens > first.usage.input_tokens
    counted = client.messages.count_tokens(model=MODEL, messages=turn, tools=[WEATHER])
    assert counted.input_tokens == second.usage.input_tokens


def test_streamed_tool_use_arrives_as_input_json_deltas(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER]
    ) as stream:
        kinds = [e.delta.type for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "input_json_delta" in kinds and final.stop_reason == "tool_use"
    assert _input_is_valid(final.content[-1].input)  # the fragments joined by the SDK


def test_tool_choice(client: anthropic.Anthropic) -> None:
    forced = client.messages.create(
        model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER], tool_choice={"type": "any"}
    )
    assert [b.type for b in forced.content] == ["tool_use"]  # no words before a forced call
    named = client.messages.create(
        model=MODEL,
        max_tokens=512,
        messages=ASK,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert named.content[-1].type == "tool_use" and named.stop_reason == "tool_use"
    none = client.messages.create(
        model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER], tool_choice={"type": "none"}
    )
    assert [b.type for b in none.content] == ["text"] and none.stop_reason == "end_turn"


def test_max_tokens_stops_the_message(client: anthropic.Anthropic) -> None:
    m = client.messages.create(model=MODEL, max_tokens=3, messages=USER)
    assert m.stop_reason == "max_tokens" and 0 < m.usage.output_tokens <= 3
    with client.messages.stream(model=MODEL, max_tokens=3, messages=USER) as s:
        final = s.get_final_message()
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens <= 3


def test_stop_sequences(client: anthropic.Anthropic) -> None:
    m = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stop_sequences=["help"])
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == "help"
    assert "help" not in m.content[0].text


def test_thinking_blocks_carry_a_signature(client: anthropic.Anthropic) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    m = client.messages.create(model=MODEL, max_tokens=2048, messages=USER, thinking=thinking)
    assert [b.type for b in m.content] == ["thinking", "text"]
    assert m.content[0].thinking and m.content[0].signature
    with client.messages.stream(
        model=MODEL, max_tokens=2048, messages=USER, thinking=thinking
    ) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()
    assert deltas.index("thinking_delta") < deltas.index("signature_delta")
    assert deltas.index("signature_delta") < deltas.index("text_delta")
    assert final.content[0].signature and final.content[0].signature != m.content[0].signature


def test_input_tokens_count_the_request(client: anthropic.Anthropic) -> None:
    short = client.messages.create(model=MODEL, max_tokens=64, messages=USER)
    longer = client.messages.create(
        model=MODEL, max_tokens=64, messages=USER, system="Answer as a pirate would, briefly."
    )
    assert longer.usage.input_tokens > short.usage.input_tokens
    assert client.messages.count_tokens(model=MODEL, messages=USER).input_tokens == (
        short.usage.input_tokens
    )
    assert len({short.id, longer.id}) == 2


def test_a_documented_error_stream_is_still_served(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/messages",
        headers={"x-api-key": "k", "Prefer": "example=overloaded-midstream"},
        json={"model": MODEL, "max_tokens": 64, "messages": USER, "stream": True},
    )
    assert r.text.rstrip().splitlines()[-2] == "event: error"


def test_text_beside_the_tool_results_still_ends_the_turn(client: anthropic.Anthropic) -> None:
    first = client.messages.create(model=MODEL, max_tokens=512, messages=ASK, tools=[WEATHER])
    use = first.content[-1]
    assert use.type == "tool_use"
    turn = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": use.id,
                    "content": [{"type": "text", "text": "sunny"}],
                },
                {"type": "text", "text": "Keep it short."},
            ],
        },
    ]
    second = client.messages.create(model=MODEL, max_tokens=512, messages=turn, tools=[WEATHER])
    assert second.stop_reason == "end_turn" and "sunny" in second.content[0].text
