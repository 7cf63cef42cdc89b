"""What the official openai SDK does with injected faults: retries, cut streams, resets.

The SDK speaks HTTP through httpx2 (not httpx), so its transport errors are httpx2's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import openai
import pytest

from contracts.model import ContractSet
from mockserver import MockConfig
from mockserver.background import serve_in_thread
from mockserver.stack import build_stack, serving_app

USER = [{"role": "user", "content": "Say hello."}]
MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def url(contracts: ContractSet) -> Iterator[str]:
    """The served mock without rules: faults come from the Prefer header."""
    with serve_in_thread(serving_app(contracts, MockConfig(ttfe=0, interval=0))) as base:
        yield base


class Counted:
    """An httpx2 client for the SDK that counts the requests it sends (retries included)."""

    def __init__(self) -> None:
        self.sent: list[httpx2.Request] = []
        self.client = httpx2.Client(event_hooks={"request": [self.sent.append]})


def sdk(base: str, retries: int = 0, http: httpx2.Client | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base}/v1", api_key="sk-anything", max_retries=retries, http_client=http
    )


def test_the_sdk_retries_an_injected_429_after_retry_after(
    contracts: ContractSet, tmp_path: Path
) -> None:
    rules = tmp_path / "faults.yaml"
    rules.write_text(
        "rules:\n"
        "  - match: {operation: openai.chat.completions.nonstream}\n"
        "    fault: 429\n    retry-after: 1\n    times: 1\n",
        encoding="utf-8",
    )
    stack = build_stack(contracts, MockConfig(ttfe=0, interval=0, faults_file=str(rules)))
    app = stack.faults
    counted = Counted()
    with serve_in_thread(stack.app) as base:
        started = time.monotonic()
        r = sdk(base, retries=2, http=counted.client).chat.completions.create(
            model=MODEL, messages=USER
        )
        elapsed = time.monotonic() - started
    assert r.choices[0].message.content  # the retry succeeded
    assert len(counted.sent) == 2  # one 429, one retry
    assert [a.outcome for a in app.applied] == ["answered 429"]
    assert elapsed >= 1.0  # it waited the Retry-After it was given


def test_the_sdk_gives_up_on_a_429_that_persists(url: str) -> None:
    counted = Counted()
    client = sdk(url, retries=2, http=counted.client)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model=MODEL, messages=USER, extra_headers={"Prefer": "fault=429, retry-after=0"}
        )
    assert info.value.status_code == 429 and len(counted.sent) == 3


def test_a_cut_stream_is_a_connection_error_in_the_sdk(url: str) -> None:
    stream = sdk(url).chat.completions.create(
        model=MODEL, messages=USER, stream=True, extra_headers={"Prefer": "fault=cut, after=3"}
    )
    received = []
    with pytest.raises(openai.APIConnectionError) as info:
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 3
    assert isinstance(info.value.__cause__, httpx2.RemoteProtocolError)


def test_a_reset_is_a_connection_error_in_the_sdk(url: str) -> None:
    with pytest.raises(openai.APIConnectionError) as info:
        sdk(url).chat.completions.create(
            model=MODEL, messages=USER, extra_headers={"Prefer": "fault=reset"}
        )
    assert isinstance(info.value.__cause__, httpx2.ReadError)


@pytest.mark.parametrize("status", [500, 502, 503, 524])
def test_server_errors_are_internal_server_errors_in_the_sdk(url: str, status: int) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        sdk(url).chat.completions.create(
            model=MODEL, messages=USER, extra_headers={"Prefer": f"fault={status}"}
        )
    assert info.value.status_code == status


def test_a_malformed_event_surfaces_as_a_json_error_in_the_sdk(url: str) -> None:
    stream = sdk(url).chat.completions.create(
        model=MODEL, messages=USER, stream=True, extra_headers={"Prefer": "fault=malformed, at=2"}
    )
    received = []
    with pytest.raises(json.JSONDecodeError):  # the SDK does not wrap it in an APIError
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 1


def test_an_empty_stream_ends_silently_in_the_sdk(url: str) -> None:
    stream = sdk(url).chat.completions.create(
        model=MODEL, messages=USER, stream=True, extra_headers={"Prefer": "fault=empty"}
    )
    assert list(stream) == []  # no error: a client must notice the missing chunks itself
