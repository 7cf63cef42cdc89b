"""google-genai against the mock's native Gemini routes: generate, stream, count, a function
call round trip, and Google's error envelope for a wrong key.

google-genai 3.x with ``http_options={"base_url": ...}`` sends ``/v1/models/{model}:...``
(the v1beta form when ``api_version`` says so); both reach the same operations."""

from __future__ import annotations

import json

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.conftest import GOOD_KEY

MODEL = "gemini-2.0-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Get the current weather in a given city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={
            "city": types.Schema(type=types.Type.STRING),
            "unit": types.Schema(type=types.Type.STRING, enum=["celsius", "fahrenheit"]),
        },
        required=["city"],
    ),
)


def _client(url: str, key: str = "sk-gemini", **options: str) -> genai.Client:
    return genai.Client(api_key=key, http_options={"base_url": url, **options})


@pytest.fixture()
def client(mock_url: str) -> genai.Client:
    return _client(mock_url)


def test_generate_content(client: genai.Client) -> None:
    r = client.models.generate_content(
        model=MODEL,
        contents="Say hello in one short sentence.",
        config=types.GenerateContentConfig(system_instruction="You are a concise assistant."),
    )
    assert r.text and r.candidates and r.candidates[0].finish_reason == types.FinishReason.STOP
    usage = r.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert r.model_version == MODEL and r.response_id


def test_the_v1beta_path_too(mock_url: str) -> None:
    client = _client(mock_url, api_version="v1beta")  # kept: a dropped Client closes its pool
    assert client.models.generate_content(model=MODEL, contents="Hi").text


def test_max_output_tokens_json_and_candidates(client: genai.Client) -> None:
    cut = client.models.generate_content(
        model=MODEL,
        contents="Explain in detail how a relay forwards an API request.",
        config=types.GenerateContentConfig(max_output_tokens=3),
    )
    assert cut.candidates and cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert cut.usage_metadata and (cut.usage_metadata.candidates_token_count or 0) <= 3
    shaped = client.models.generate_content(
        model=MODEL,
        contents="A recipe name and its minutes.",
        config=types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema={
                "type": "OBJECT",
                "properties": {"name": {"type": "STRING"}, "minutes": {"type": "INTEGER"}},
                "required": ["name", "minutes"],
            },
            candidate_count=2,
        ),
    )
    assert shaped.candidates and len(shaped.candidates) == 2
    value = json.loads(shaped.text or "")
    assert isinstance(value["name"], str) and isinstance(value["minutes"], int)


def test_stream_to_the_end(client: genai.Client) -> None:
    chunks = list(
        client.models.generate_content_stream(model=MODEL, contents="Say hello in one sentence.")
    )
    assert len(chunks) > 1 and "".join(c.text or "" for c in chunks)
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates and c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert last.usage_metadata and last.usage_metadata.total_token_count


def test_count_tokens_agrees_with_usage(client: genai.Client) -> None:
    contents = "Say hello in one short sentence."
    counted = client.models.count_tokens(model=MODEL, contents=contents)
    usage = client.models.generate_content(model=MODEL, contents=contents).usage_metadata
    assert counted.total_tokens and usage is not None
    assert counted.total_tokens == usage.prompt_token_count


def test_function_call_round_trip(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    first = client.models.generate_content(model=MODEL, contents=[question], config=config)
    calls = first.function_calls or []
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert isinstance((calls[0].args or {}).get("city"), str)
    assert first.candidates and first.candidates[0].content
    answer = types.Part.from_function_response(
        name="get_weather", response={"temperature": 18, "sky": "light rain"}
    )
    second = client.models.generate_content(
        model=MODEL,
        contents=[
            question,
            first.candidates[0].content,
            types.Content(role="user", parts=[answer]),
        ],
        config=config,
    )
    assert not second.function_calls and second.text and "18" in second.text
    assert second.candidates and second.candidates[0].finish_reason == types.FinishReason.STOP


def test_a_wrong_key_is_googles_error(keyed_mock_url: str) -> None:
    wrong, good = _client(keyed_mock_url, key="wrong"), _client(keyed_mock_url, key=GOOD_KEY)
    with pytest.raises(errors.ClientError) as raised:
        wrong.models.generate_content(model=MODEL, contents="Hi")
    assert raised.value.code == 401 and raised.value.status == "UNAUTHENTICATED"
    assert good.models.count_tokens(model=MODEL, contents="Hi").total_tokens


def test_the_key_in_the_query_and_the_json_array_form(keyed_mock_url: str) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Say hello."}]}]}
    url = f"{keyed_mock_url}/v1beta/models/{MODEL}:streamGenerateContent"
    array = httpx.post(url, params={"key": GOOD_KEY}, json=body)
    assert array.status_code == 200 and array.headers["content-type"] == "application/json"
    chunks = array.json()
    assert isinstance(chunks, list) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    refused = httpx.post(url, params={"key": "wrong", "alt": "sse"}, json=body)
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": 401,
        "message": "Incorrect API key provided.",
        "status": "UNAUTHENTICATED",
    }


def test_models_in_googles_format_beside_openais(mock_url: str, client: genai.Client) -> None:
    listed = httpx.get(f"{mock_url}/v1beta/models", headers={"x-goog-api-key": "k"}).json()
    assert f"models/{MODEL}" in [m["name"] for m in listed["models"]]
    one = httpx.get(f"{mock_url}/v1beta/models/{MODEL}", headers={"x-goog-api-key": "k"})
    assert one.json()["name"] == f"models/{MODEL}"
    missing = httpx.get(f"{mock_url}/v1beta/models/gemini-9", headers={"x-goog-api-key": "k"})
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    openai_one = httpx.get(f"{mock_url}/v1/models/{MODEL}", headers={"authorization": "Bearer k"})
    assert openai_one.json()["object"] == "model"  # GET /v1/models/{model} stays OpenAI's
