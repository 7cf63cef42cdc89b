"""The mock holds a conversation: the official openai SDK through tool loops, reasoning models,
requests as the SDK's own resource tests send them, and the models it lists and retrieves."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from contracts.model import ContractSet
from contracts.model_names import named_models

WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string", "pattern": "^[A-Z][a-z]+$"}},
            "required": ["zone"],
            "additionalProperties": False,
        },
    },
}
QUESTION = "What's the weather in Paris?"


def _result_for(name: str) -> str:
    return "18°C, light rain" if name == "get_weather" else "10:42"


def _run_loop(client: openai.OpenAI, stream: bool, tools: list[Any]) -> tuple[int, str]:
    """An agent loop: call, run every tool asked for, call again, until the model answers."""
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]
    for calls in range(1, 6):
        if stream:
            text, tool_calls, finish = _streamed(client, messages, tools)
        else:
            r = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
            message, finish = r.choices[0].message, r.choices[0].finish_reason
            text = message.content or ""
            tool_calls = [
                (tc.id, tc.function.name, tc.function.arguments) for tc in message.tool_calls or []
            ]
        if not tool_calls:
            assert finish == "stop"
            return calls, text
        assert finish == "tool_calls"
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                    for i, n, a in tool_calls
                ],
            }
        )
        for call_id, name, _ in tool_calls:
            messages.append({"role": "tool", "tool_call_id": call_id, "content": _result_for(name)})
    raise AssertionError("the loop never ended in text")


def _streamed(
    client: openai.OpenAI, messages: list[ChatCompletionMessageParam], tools: list[Any]
) -> tuple[str, list[tuple[str, str, str]], str | None]:
    text, finish = "", None
    calls: dict[int, list[str]] = {}
    for chunk in client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=tools, stream=True
    ):
        for c in chunk.choices:
            text += c.delta.content or ""
            for tc in c.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, ["", "", ""])
                slot[0] = tc.id or slot[0]
                slot[1] += (tc.function.name or "") if tc.function else ""
                slot[2] += (tc.function.arguments or "") if tc.function else ""
            finish = c.finish_reason or finish
    return text, [(i, n, a) for i, n, a in (calls[k] for k in sorted(calls))], finish


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_tool_loop_ends_in_two_calls_with_text_that_uses_the_result(
    client: openai.OpenAI, stream: bool
) -> None:
    calls, text = _run_loop(client, stream, [WEATHER])
    assert calls == 2
    assert "18°C, light rain" in text and "get_weather" in text


def test_the_tools_the_user_names_are_called_in_parallel(client: openai.OpenAI) -> None:
    both = [{"role": "user", "content": "The weather and the time in Paris, please."}]
    r = client.chat.completions.create(model="gpt-4o", messages=both, tools=[WEATHER, TIME])  # type: ignore[arg-type]
    calls = r.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    zone = json.loads(calls[1].function.arguments)["zone"]
    assert zone[0].isupper() and zone[1:].islower()  # the pattern holds
    one = client.chat.completions.create(
        model="gpt-4o",
        messages=both,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],
        parallel_tool_calls=False,
    )
    assert [c.function.name for c in one.choices[0].message.tool_calls or []] == ["get_weather"]
    assert _run_loop(client, False, [WEATHER, TIME])[0] == 2


def test_tool_choice_is_honoured_after_a_tool_result(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": QUESTION}], tools=[WEATHER]
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    after: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": QUESTION},
        first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    again = client.chat.completions.create(
        model="gpt-4o", messages=after, tools=[WEATHER, TIME], tool_choice="required"
    )
    assert again.choices[0].finish_reason == "tool_calls"
    named = client.chat.completions.create(
        model="gpt-4o",
        messages=after,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert [c.function.name for c in named.choices[0].message.tool_calls or []] == ["get_time"]
    none = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[WEATHER],
        tool_choice="none",
    )
    assert none.choices[0].finish_reason == "stop" and none.choices[0].message.content
    # a new user message is a new turn: auto calls again
    new_turn = [*after, {"role": "assistant", "content": "It is sunny."}]
    new_turn.append({"role": "user", "content": "And tomorrow?"})
    more = client.chat.completions.create(model="gpt-4o", messages=new_turn, tools=[WEATHER])
    assert more.choices[0].finish_reason == "tool_calls"


def test_a_reasoning_model_shows_its_reasoning_first(client: openai.OpenAI) -> None:
    user: list[ChatCompletionMessageParam] = [{"role": "user", "content": "9.11 or 9.8?"}]
    r = client.chat.completions.create(model="deepseek-r1", messages=user)
    reasoning = (r.choices[0].message.model_extra or {}).get("reasoning_content")
    assert reasoning and r.choices[0].message.content
    assert r.usage and r.usage.completion_tokens_details
    assert 0 < (r.usage.completion_tokens_details.reasoning_tokens or 0) < r.usage.completion_tokens
    chunks = list(
        client.chat.completions.create(
            model="deepseek-r1",
            messages=user,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    kinds = [
        "reasoning" if (c.choices[0].delta.model_extra or {}).get("reasoning_content") else "text"
        for c in chunks
        if c.choices and (c.choices[0].delta.content or c.choices[0].delta.model_extra)
    ]
    assert (
        kinds.index("text") > kinds.index("reasoning")
        and "reasoning" not in kinds[kinds.index("text") :]
    )
    streamed = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
        for c in chunks
        if c.choices
    )
    assert streamed == reasoning
    usage = chunks[-1].usage
    assert usage and usage.completion_tokens_details == r.usage.completion_tokens_details


# What the openai SDK's own resource tests send (tests/api_resources, "with_all_params"):
# values OpenAI's reference allows, such as max_completion_tokens 0 and best_of 0.
SDK_TOOL = {
    "type": "function",
    "function": {
        "name": "name",
        "description": "description",
        "parameters": {"foo": "bar"},
        "strict": True,
    },
}
SDK_CHAT: dict[str, Any] = {
    "messages": [{"content": "string", "role": "system", "name": "name"}],
    "model": "gpt-4o",
    "audio": {"format": "wav", "voice": "alloy"},
    "frequency_penalty": -2,
    "logit_bias": {"foo": 0},
    "logprobs": True,
    "max_completion_tokens": 0,
    "max_tokens": 0,
    "metadata": {"foo": "string"},
    "modalities": ["text", "audio"],
    "n": 1,
    "parallel_tool_calls": True,
    "prediction": {"content": "string", "type": "content"},
    "presence_penalty": -2,
    "response_format": {"type": "text"},
    "seed": -9007199254740991,
    "service_tier": "auto",
    "stop": "string",
    "store": True,
    "temperature": 1,
    "tool_choice": "none",
    "tools": [SDK_TOOL, SDK_TOOL, SDK_TOOL],
    "top_logprobs": 0,
    "top_p": 1,
    "user": "user-1234",
}
SDK_COMPLETION: dict[str, Any] = {
    "model": "string",
    "prompt": "This is a test.",
    "best_of": 0,
    "echo": True,
    "frequency_penalty": -2,
    "logit_bias": {"foo": 0},
    "logprobs": 0,
    "max_tokens": 16,
    "n": 1,
    "presence_penalty": -2,
    "stop": "\n",
    "suffix": "test.",
    "temperature": 1,
    "top_p": 1,
    "user": "user-1234",
}


def test_what_the_sdks_resource_tests_send_is_accepted(
    client: openai.OpenAI, mock_url: str
) -> None:
    r = client.chat.completions.create(**SDK_CHAT)
    assert r.choices[0].finish_reason == "length" and r.usage and r.usage.completion_tokens == 0
    chunks = list(
        client.chat.completions.create(
            **SDK_CHAT, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage and chunks[-1].usage.completion_tokens == 0
    assert client.completions.create(**SDK_COMPLETION).object == "text_completion"
    loose = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-anything", max_retries=0)
    assert list(loose.completions.create(**SDK_COMPLETION, stream=True))


def test_every_named_model_is_listed_and_retrievable(
    client: openai.OpenAI, contracts: ContractSet
) -> None:
    listed = [m.id for m in client.models.list()]
    assert len(listed) == len(set(listed))
    for wanted in ("gpt-image-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-transcribe", "o1-mini"):
        assert wanted in listed
    named = {m.id for m in named_models(contracts)}
    assert named <= set(listed)
    for model_id in listed:
        model = client.models.retrieve(model_id)
        assert model.id == model_id and model.object == "model" and model.owned_by
    assert client.models.retrieve("claude-opus-4-1").owned_by == "anthropic"  # a glob selects it
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.body == {  # type: ignore[comparison-overlap]
        "message": "The model 'no-such-model' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


HARD_PARAMETERS = {
    "local-refs": {
        "type": "object",
        "properties": {"spot": {"$ref": "#/$defs/Spot"}},
        "required": ["spot"],
        "additionalProperties": False,
        "$defs": {
            "Spot": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "label": {"type": ["string", "null"]}},
                "required": ["lat", "label"],
                "additionalProperties": False,
            }
        },
    },
    "pattern-and-lengths": {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{2}$"}},
        "required": ["code"],
    },
    "bounds": {
        "type": "object",
        "properties": {
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "step": {"type": "integer", "minimum": 1, "multipleOf": 5},
        },
        "required": ["ratio", "step"],
    },
    "unique-items": {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 3,
                "uniqueItems": True,
            }
        },
        "required": ["tags"],
    },
    "min-properties": {
        "type": "object",
        "minProperties": 2,
        "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}},
    },
}


@pytest.mark.parametrize("name", list(HARD_PARAMETERS))
def test_tool_arguments_validate_against_the_parameters(client: openai.OpenAI, name: str) -> None:
    import jsonschema  # an independent validator, not the mock's own

    schema = HARD_PARAMETERS[name]
    tool: ChatCompletionToolParam = {
        "type": "function",
        "function": {"name": "do_it", "parameters": schema},
    }
    r = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Do it."}], tools=[tool]
    )
    call = (r.choices[0].message.tool_calls or [])[0]
    jsonschema.validate(json.loads(call.function.arguments), schema)
