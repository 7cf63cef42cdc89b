"""The official openai SDK, strict response validation on, against the running mock."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import GOOD_KEY

WEATHER_TOOL = {
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
        },
    },
}
USER = [{"role": "user", "content": "Say hello."}]


def test_chat_non_stream(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert r.object == "chat.completion" and r.model == "gpt-4o-mini"
    assert r.choices[0].message.role == "assistant" and r.choices[0].message.content
    assert r.usage and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_stream_joins_to_the_content(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({(c.id, c.created, c.model) for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, how may I assist you today?"
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert all(c.usage is None for c in chunks)


def test_chat_stream_with_include_usage(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_tools_give_arguments_that_match_the_tool_schema(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o", messages=USER, tools=[WEATHER_TOOL])
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    args = json.loads(call.function.arguments)
    assert call.function.name == "get_weather" and set(args) == {"location", "unit"}
    assert args["unit"] in ("celsius", "fahrenheit")


def test_streamed_tool_call_fragments_join_into_json(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=USER, tools=[WEATHER_TOOL], stream=True
    )
    arguments = ""
    finish = None
    for chunk in stream:
        for c in chunk.choices:
            for tc in c.delta.tool_calls or []:
                arguments += tc.function.arguments or ""
            finish = c.finish_reason or finish
    assert finish == "tool_calls" and json.loads(arguments)["unit"] in ("celsius", "fahrenheit")


def test_json_schema_response_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    r = client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": schema, "strict": True},
        },
    )
    data = json.loads(r.choices[0].message.content)
    assert set(data) == {"city", "population"} and isinstance(data["population"], int)


def test_n_two_choices(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER, n=2)
    assert [c.index for c in r.choices] == [0, 1]


def test_max_tokens_cuts_with_finish_reason_length(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER, max_tokens=3)
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens <= 3


def test_stop_sequence_is_absent(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER, stop=["assist"])
    assert "assist" not in r.choices[0].message.content


def test_models_list(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o" in ids and len(ids) >= 10


def test_legacy_completions(client: openai.OpenAI, mock_url: str) -> None:
    r = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=3
    )
    assert (
        r.object == "text_completion"
        and r.choices[0].text
        and r.choices[0].finish_reason == "length"
    )
    # The SDK types stream chunks as Completion, whose finish_reason may not be null; OpenAI's own
    # streams send null until the last chunk, so strict validation cannot read any real stream.
    loose = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-anything", max_retries=0)
    chunks = list(
        loose.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=3, stream=True
        )
    )
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    assert (
        streamed.split()
        and [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    )


@pytest.mark.parametrize("prompt", [[446.0], [446, 447], [[1, 2.0], [3]], ["a", "b"]])
def test_legacy_completions_take_token_prompts(client: openai.OpenAI, prompt: object) -> None:
    """Token ids as JSON integers, 446.0 included (schemathesis found it answered a 500)."""
    r = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt)
    assert r.object == "text_completion" and r.choices


def test_embeddings_float(client: openai.OpenAI) -> None:
    r = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float"
    )
    assert [d.index for d in r.data] == [0, 1] and len(r.data[0].embedding) == 1536
    again = client.embeddings.create(
        model="text-embedding-3-small", input="a", encoding_format="float"
    )
    assert again.data[0].embedding == r.data[0].embedding


def test_embeddings_base64_token_ids_and_dimensions(mock_url: str) -> None:
    # The SDK asks for base64 by default and decodes it after parsing; strict validation would
    # reject its own undecoded base64 (against any server), so this client leaves it off.
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="sk-anything", max_retries=0)
    r = client.embeddings.create(
        model="text-embedding-3-small", input=[[2028, 374, 264]], dimensions=64
    )
    vec = r.data[0].embedding
    assert len(vec) == 64 and abs(sum(x * x for x in vec) - 1.0) < 1e-4


def test_no_key_raises_authentication_error(mock_url: str) -> None:
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.models.list(extra_headers={"Authorization": openai.Omit()})
    assert info.value.request.headers.get("authorization") is None


def test_wrong_key_raises_authentication_error(keyed_mock_url: str) -> None:
    bad = openai.OpenAI(base_url=f"{keyed_mock_url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.chat.completions.create(model="gpt-4o", messages=USER)
    assert info.value.body["code"] == "invalid_api_key"
    good = openai.OpenAI(base_url=f"{keyed_mock_url}/v1", api_key=GOOD_KEY, max_retries=0)
    assert good.models.list().data


def test_bad_request_raises_bad_request_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert info.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=USER, temperature="hot")  # type: ignore[arg-type]


def test_seed_004_base_url_without_v1(mock_url: str) -> None:
    client = openai.OpenAI(
        base_url=mock_url, api_key="sk-anything", _strict_response_validation=True
    )
    r = client.chat.completions.create(
        model="gpt-4-gizmo-g-bo0FiWLY7", messages=[{"role": "user", "content": "你是谁"}]
    )
    assert r.model == "gpt-4-gizmo-g-bo0FiWLY7"
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4-gizmo-g-bo0FiWLY7", messages=USER
    )
    assert raw.headers["x-relaykit-operation"] == "openai.chat.gpts_gizmo"
