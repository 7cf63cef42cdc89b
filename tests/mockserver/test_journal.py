"""The request journal: what the client sent, as `GET /_relaykit/requests` shows it, bounded,
filtered, with keys masked, shared by worker processes, and absent when turned off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
import pytest

from contracts.model import ContractSet
from mockserver import MockConfig
from mockserver.background import serve_in_thread
from mockserver.journal import JOURNAL_PATH
from mockserver.journal_body import BODY_CAP, FIELD_CAP
from mockserver.stack import build_stack
from tests.serving import relaykit_serve

KEY = "sk-journal-secret-4242"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]}


@pytest.fixture(scope="module")
def url(contracts: ContractSet) -> Iterator[str]:
    with serve_in_thread(build_stack(contracts, MockConfig(ttfe=0, interval=0)).app) as base:
        yield base


@pytest.fixture()
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        assert client.delete(JOURNAL_PATH).json()["cleared"] is True
        yield client


def journal(http: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    r = http.get(JOURNAL_PATH, params=filters)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def test_an_sdk_call_is_journaled_with_its_operation_body_and_status(
    url: str, http: httpx.Client
) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"])  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=CHAT["messages"],
        stream=True,  # type: ignore[arg-type]
    )
    assert [c for c in stream]
    plain, streamed = journal(http)
    assert plain["operation"] == "openai.chat.completions.nonstream"
    assert streamed["operation"] == "openai.chat.completions.stream"
    assert plain["method"] == "POST" and plain["path"] == "/v1/chat/completions"
    assert plain["body"]["messages"] == CHAT["messages"] and plain["body_kind"] == "json"
    assert streamed["body"]["stream"] is True and streamed["complete"] is True
    assert plain["status"] == streamed["status"] == 200
    assert plain["seq"] < streamed["seq"] and plain["time"] <= streamed["time"]
    assert datetime.fromisoformat(plain["time"]).tzinfo is not None
    assert plain["headers"]["authorization"] == "[redacted]"
    assert "user-agent" in plain["headers"]


def test_keys_never_reach_the_journal(http: httpx.Client) -> None:
    http.post(
        "/v1/chat/completions",
        json={**CHAT, "user": f"echo {KEY}"},
        headers={"x-api-key": KEY, "x-echo": f"token={KEY}"},
        params={"key": KEY, "other": "1"},
    )
    http.get("/v1/models", headers={"x-goog-api-key": "AIza-goog-key"})
    unauthorised = http.post("/v1/embeddings", json={"input": "x"}, headers={"Authorization": ""})
    assert unauthorised.status_code == 401
    raw = http.get(JOURNAL_PATH).text
    assert KEY not in raw and "AIza-goog-key" not in raw
    chat, models, refused = journal(http)
    assert refused["status"] == 401 and refused["body_kind"] == "unread"
    assert refused["operation"] == "openai.embeddings" and models["body_kind"] == "none"
    assert chat["query"] == {"key": "[redacted]", "other": "1"}
    assert chat["headers"]["x-api-key"] == "[redacted]"
    assert chat["headers"]["x-echo"] == "token=[redacted]"
    assert chat["body"]["user"] == "echo [redacted]"
    assert models["headers"]["x-goog-api-key"] == "[redacted]"


def test_forms_are_summarised_and_large_bodies_cut(http: httpx.Client) -> None:
    audio = b"\x00\xff" * 200_000
    http.post(
        "/v1/audio/transcriptions",
        files={"file": ("speech.mp3", audio, "audio/mpeg")},
        data={"model": "whisper-1", "prompt": "x" * (FIELD_CAP * 3)},
    )
    long_text = "y" * (BODY_CAP * 2)
    http.post("/v1/chat/completions", json={**CHAT, "user": long_text})
    form, big = journal(http)
    assert form["operation"] == "openai.audio.transcriptions" and form["body_kind"] == "form"
    assert form["body"]["file"] == {
        "filename": "speech.mp3",
        "content_type": "audio/mpeg",
        "size": len(audio),
    }
    assert form["body"]["model"] == "whisper-1"
    assert len(form["body"]["prompt"]) == FIELD_CAP and form["body_truncated"] is True
    assert form["body_bytes"] > len(audio)
    assert big["body_kind"] == "text" and big["body_truncated"] is True
    assert len(big["body"]) == BODY_CAP and big["body_bytes"] > BODY_CAP * 2
    assert big["operation"] == "openai.chat.completions.nonstream"  # chosen by the app


def test_filters_select_by_operation_path_method_time_and_count(http: httpx.Client) -> None:
    http.get("/v1/models")
    start = datetime.now(UTC)
    for i in range(3):
        http.post("/v1/chat/completions", json={**CHAT, "user": f"u{i}"})
    http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    assert len(journal(http)) == 5
    chats = journal(http, operation="openai.chat.*")
    assert [e["body"]["user"] for e in chats] == ["u0", "u1", "u2"]
    assert [e["body"]["user"] for e in journal(http, operation="openai.chat.*", limit=2)] == [
        "u1",
        "u2",
    ]
    assert [e["path"] for e in journal(http, path="/v1/emb*")] == ["/v1/embeddings"]
    assert [e["method"] for e in journal(http, method="get")] == ["GET"]
    assert len(journal(http, since=start.isoformat())) == 4
    assert len(journal(http, since=str(start.timestamp() + 3600))) == 0
    assert journal(http, limit=0) == []
    for bad, param in (({"limit": "-1"}, "limit"), ({"since": "soon"}, "since"), ({"x": "1"}, "x")):
        r = http.get(JOURNAL_PATH, params=bad)
        assert r.status_code == 400 and r.json()["error"]["param"] == param, r.text
    assert http.put(JOURNAL_PATH).status_code == 405


def test_injected_faults_are_journaled_as_the_client_saw_them(http: httpx.Client) -> None:
    http.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "fault=429"})
    with pytest.raises(httpx.TransportError):
        http.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "fault=reset"})
    limited, reset = journal(http)
    assert limited["status"] == 429 and limited["complete"] is True
    assert reset["status"] is None and reset["complete"] is False
    assert reset["body"] == CHAT  # the request arrived whole before the reset


def test_the_journal_keeps_the_last_n(contracts: ContractSet) -> None:
    app = build_stack(contracts, MockConfig(journal=3)).app
    with serve_in_thread(app) as base, httpx.Client(base_url=base, headers=AUTH) as http:
        for i in range(5):
            http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": f"{i}"})
        http.get("/_relaykit/health")  # the mock's own endpoints are not journaled
        assert [e["body"]["input"] for e in journal(http)] == ["2", "3", "4"]


def test_a_journal_of_zero_is_off(contracts: ContractSet) -> None:
    stack = build_stack(contracts, MockConfig(journal=0))
    assert stack.journal is None and stack.app is stack.faults
    with serve_in_thread(stack.app) as base:
        r = httpx.get(f"{base}{JOURNAL_PATH}")
    assert r.status_code == 404 and "--journal 0" in r.json()["error"]["message"]


def test_workers_share_one_journal_and_the_cli_sets_its_size() -> None:
    limits = httpx.Limits(max_keepalive_connections=0)  # a new connection, any worker
    with (
        relaykit_serve("--workers", "2", "--journal", "4") as base,
        httpx.Client(base_url=base, headers=AUTH, limits=limits, timeout=10) as http,
    ):
        for i in range(6):
            http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": f"{i}"})
        for _ in range(4):  # whichever worker answers has all of it
            assert [e["body"]["input"] for e in journal(http)] == ["2", "3", "4", "5"]
    with relaykit_serve("--journal", "0") as base:
        assert httpx.get(f"{base}{JOURNAL_PATH}").status_code == 404
