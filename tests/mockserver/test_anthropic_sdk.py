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
