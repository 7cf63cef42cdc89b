"""The mock over plain HTTP: SSE framing, errors in the envelope, Prefer, pacing, limits."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread

AUTH = {"Authorization": "Bearer sk-anything"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}


@pytest.fixture()
def http(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_url, headers=AUTH, timeout=10) as client:
        yield client


def frames(raw: bytes) -> list[str]:
    """The SSE frames of a body, split on the blank line that ends each."""
    text = raw.decode()
    assert text.endswith("\n\n"), "a stream ends with a complete frame"
    return text[:-2].split("\n\n")


def test_stream_is_sse_framed_and_ends_with_one_done(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions",
        json={**CHAT, "stream": True, "n": 2, "stream_options": {"include_usage": True}},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    parts = frames(r.content)
    assert parts[-1] == "data: [DONE]" and parts.count("data: [DONE]") == 1
    chunks = [json.loads(p.removeprefix("data: ")) for p in parts[:-1]]
    assert all(p.startswith("data: ") and "\n" not in p for p in parts)
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    for index in (0, 1):
        mine = [
            c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["index"] == index
        ]
        assert mine[0]["delta"]["role"] == "assistant"
        assert (
            sum(1 for c in mine if c["finish_reason"]) == 1 and mine[-1]["finish_reason"] == "stop"
        )
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0


def test_openai_sdk_accept_header_still_streams(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"Accept": "application/json"},
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-relaykit-operation"] == "openai.chat.completions.stream"


def test_operation_selection_by_model_and_body(http: httpx.Client) -> None:
    def op(body: dict) -> str:
        return http.post("/v1/chat/completions", json=body).headers["x-relaykit-operation"]

    assert op(CHAT) == "openai.chat.completions.nonstream"
    assert (
        op({**CHAT, "model": "claude-3-5-sonnet-20241022"})
        == "openai.chat.claude_openai_format.nonstream"
    )
    assert (
        op({**CHAT, "model": "gemini-1.5-pro", "stream": True})
        == "openai.chat.gemini_openai_format"
    )
    vision = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ],
        }
    ]
    assert op({**CHAT, "messages": vision, "stream": True}) == "openai.chat.vision.stream"


def test_invalid_json_is_a_400_envelope(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_validation_error_names_the_param(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions", json={**CHAT, "messages": [{"role": "wizard", "content": "x"}]}
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages[0].role"
    r = http.post("/v1/chat/completions", json={"messages": CHAT["messages"]})
    assert r.status_code == 400 and "model" in r.json()["error"]["message"]


def test_unknown_route_and_wrong_method(http: httpx.Client) -> None:
    r = http.post("/v1/nothing-here", json={})
    assert (
        r.status_code == 404
        and r.json()["error"]["message"] == "Invalid URL (POST /v1/nothing-here)"
    )
    r = http.get("/v1/chat/completions")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and "error" in r.json()


def test_missing_key_is_a_401_envelope(mock_url: str) -> None:
    r = httpx.post(f"{mock_url}/v1/chat/completions", json=CHAT)
    assert r.status_code == 401 and r.json()["error"]["message"] == "You didn't provide an API key."
    r = httpx.post(
        f"{mock_url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer"}
    )
    assert r.status_code == 401


def test_body_over_the_limit_is_a_413(contracts: ContractSet) -> None:
    with serve_in_thread(create_app(contracts, MockConfig(max_body_bytes=1024))) as url:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
        r = httpx.post(f"{url}/v1/chat/completions", json=big, headers=AUTH)
        assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_prefer_code_simulates_an_error_for_streams_too(http: httpx.Client) -> None:
    r = http.post(
        "/v1/chat/completions", json={**CHAT, "stream": True}, headers={"Prefer": "code=429"}
    )
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["type"] == "rate_limit_exceeded"
    r = http.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "code=401"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_prefer_example_unknown_name_lists_the_known_ones(http: httpx.Client) -> None:
    body = {"model": "gpt-4-gizmo-g-bo0FiWLY7", "messages": [{"role": "user", "content": "你是谁"}]}
    r = http.post("/v1/chat/completions", json=body, headers={"Prefer": "example=nope"})
    assert r.status_code == 400 and "known:" in r.json()["error"]["message"]


def test_prefer_example_works_for_a_stream(contracts: ContractSet, http: httpx.Client) -> None:
    op = contracts.get("openai.chat.function_calling.official")
    assert op.stream is not None
    name = op.stream.examples[0].name
    tools = op.request.examples[0].value["tools"]
    r = http.post(
        "/v1/chat/completions",
        json={**CHAT, "tools": tools, "stream": True},
        headers={"Prefer": f"example={name}"},
    )
    assert r.status_code == 200 and frames(r.content)[-1] == "data: [DONE]"


def test_pacing_is_set_per_request(http: httpx.Client) -> None:
    started = time.perf_counter()
    with http.stream(
        "POST",
        "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"Prefer": "ttfe-ms=300, interval-ms=20"},
    ) as r:
        arrivals = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.perf_counter() - started)
    assert arrivals[0] >= 0.3
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) >= 3 and sorted(gaps)[len(gaps) // 2] >= 0.015


def test_malformed_prefer_is_a_400(http: httpx.Client) -> None:
    r = http.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "code=200"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "Prefer"


def test_health_and_openapi(http: httpx.Client) -> None:
    assert http.get("/_relaykit/health").json()["status"] == "ok"
    assert http.get("/_relaykit/openapi.json").json()["openapi"] == "3.1.0"


@pytest.mark.parametrize(
    "prompt",
    [[167.0, 145686, 4531.0], [[1, 2.0], [3]], ["a", "b"], "one"],
    ids=["float-token-ids", "token-id-lists", "strings", "string"],
)
def test_every_prompt_shape_the_schema_allows_is_answered(
    http: httpx.Client, prompt: object
) -> None:
    """JSON Schema counts 167.0 as an integer: token ids written as floats are valid and must
    be answered, not a 500 (schemathesis found it)."""
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 5}
    r = http.post("/v1/completions", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    wanted = len(prompt) if isinstance(prompt, list) and isinstance(prompt[0], str | list) else 1
    assert len(r.json()["choices"]) == wanted
