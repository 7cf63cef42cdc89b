"""Record the mock through the recorder, replay it: the same bytes, events and order, no key."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from mockserver.cassettes import load_cassettes
from mockserver.replay import REPLAY_HEADER, ReplayApp
from relaykit.record_cli import record
from relaykit.recorder import Recorder

KEY = "sk-relaykit-record-secret-7f3a9c"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}


def _exchanges(url: str) -> list[httpx.Response]:
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        return [
            c.post("/v1/chat/completions", json=CHAT),
            c.post("/v1/chat/completions", json={**CHAT, "stream": True}),
            c.post("/v1/audio/speech", json={"model": "tts-1", "input": "hi", "voice": "alloy"}),
            c.post("/v1/chat/completions", json=CHAT, headers={"Prefer": "code=429"}),
            c.get("/v1/models", params={"key": KEY}),
            c.post(
                "/v1/audio/transcriptions",
                data={"model": "whisper-1"},
                files={"file": ("a.mp3", b"ID3 not really audio", "audio/mpeg")},
            ),
        ]


def test_a_recording_of_the_mock_replays_the_same_bytes_and_holds_no_key(
    contracts: ContractSet, tmp_path: Path
) -> None:
    out = tmp_path / "cassettes"
    paced = create_app(contracts, MockConfig(ttfe=0.01, interval=0.01))
    with serve_in_thread(paced) as mock, serve_in_thread(Recorder(mock, out)) as recorder:
        recorded = _exchanges(recorder)
    assert [r.status_code for r in recorded] == [200, 200, 200, 429, 200, 200]
    files = sorted(out.iterdir())
    assert len(files) == 6
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8"), path.name
    stream = load_cassettes(out)[1].response
    assert stream.events is not None and stream.events[-1].data == "[DONE]"
    assert stream.events[-1].at > stream.events[0].at  # the mock paced them; arrival noted

    fallback = create_app(contracts, MockConfig(ttfe=0, interval=0))
    with serve_in_thread(ReplayApp(out, fallback=fallback)) as replay:
        replayed = _exchanges(replay)
    for before, after in zip(recorded, replayed, strict=True):
        assert after.headers[REPLAY_HEADER]
        assert after.status_code == before.status_code
        assert after.headers["content-type"] == before.headers["content-type"]
        assert after.content == before.content
    assert replayed[2].headers["content-type"] == "audio/mpeg"
    assert replayed[3].headers["retry-after"] == recorded[3].headers["retry-after"]


def test_the_recorder_passes_a_stream_on_before_it_ends(tmp_path: Path) -> None:
    release = threading.Event()

    async def events(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b'data: {"n": 1}\n\n'
            while not release.is_set():
                await asyncio.sleep(0.01)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    upstream = Starlette(routes=[Route("/v1/chat/completions", events, methods=["POST"])])
    out = tmp_path / "c"
    with (
        serve_in_thread(upstream) as up,
        serve_in_thread(Recorder(up, out)) as url,
        httpx.stream("POST", f"{url}/v1/chat/completions", json={}, timeout=30) as r,
    ):
        lines = r.iter_lines()
        assert next(lines) == 'data: {"n": 1}'  # arrived while the upstream still waits
        release.set()
        assert [line for line in lines if line] == ["data: [DONE]"]
    (cassette,) = load_cassettes(out)
    assert cassette.response.events is not None
    assert [e.data for e in cassette.response.events] == ['{"n": 1}', "[DONE]"]


def test_an_unreachable_upstream_is_a_502_and_no_cassette(tmp_path: Path) -> None:
    out = tmp_path / "c"
    with serve_in_thread(Recorder("http://127.0.0.1:9", out)) as url:
        r = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=30)
    assert r.status_code == 502 and r.json()["error"]["code"] == "bad_gateway"
    assert list(out.iterdir()) == []


def test_the_record_command_serves_a_recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, object] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.update(app=app, **kw))
    out = tmp_path / "c"
    args = ["--upstream", "http://relay.example", "--port", "9123", "--out", str(out)]
    result = CliRunner().invoke(record, args)
    assert result.exit_code == 0, result.output
    assert isinstance(served["app"], Recorder) and served["port"] == 9123
    assert served["host"] == "127.0.0.1" and out.is_dir()
    bad = CliRunner().invoke(record, ["--upstream", "relay.example", "--out", str(out)])
    assert bad.exit_code == 2 and "http://" in bad.output


def test_cassette_request_bodies_are_data(contracts: ContractSet, tmp_path: Path) -> None:
    out = tmp_path / "c"
    mock_app = create_app(contracts, MockConfig(ttfe=0, interval=0))
    with serve_in_thread(mock_app) as mock, serve_in_thread(Recorder(mock, out)) as url:
        httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH, timeout=30)
    data = json.loads(next(out.iterdir()).read_text(encoding="utf-8"))
    assert data["request"]["body"]["json"] == CHAT
    assert data["response"]["body"]["json"]["object"] == "chat.completion"
    headers = dict(data["request"]["headers"])
    assert headers["authorization"] == "[REDACTED]" and "connection" not in headers
