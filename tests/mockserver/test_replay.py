"""ReplayApp: recorded answers byte for byte, the contract mock for the rest."""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.testclient import TestClient

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.cassette_bodies import encode_body
from mockserver.cassettes import (
    Cassette,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    write_cassette,
)
from mockserver.replay import REPLAY_HEADER, ReplayApp
from suites.redact import Redactor

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _write(directory: Path, seq: int, body: dict[str, object], response: RecordedResponse) -> None:
    request = RecordedRequest("POST", "/v1/chat/completions", [], [], {"json": body})
    write_cassette(directory, Cassette(request, response, seq=seq), Redactor())


def _json(status: int, content: bytes) -> RecordedResponse:
    return RecordedResponse(
        status, [("content-type", "application/json")], encode_body("application/json", content)
    )


def _app(directory: Path, contracts: ContractSet, timing: bool = False) -> ReplayApp:
    fallback = create_app(contracts, MockConfig(ttfe=0, interval=0))
    return ReplayApp(directory, fallback=fallback, timing=timing)


def test_a_matching_request_gets_the_recorded_bytes(tmp_path: Path, contracts: ContractSet) -> None:
    content = b'{"id": "rec-1", "choices": []}\n'
    _write(tmp_path, 1, CHAT, _json(200, content))
    client = TestClient(_app(tmp_path, contracts))
    # same body as data, different key order and spacing
    sent = '{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}'
    r = client.post(
        "/v1/chat/completions", content=sent, headers={"content-type": "application/json"}
    )
    assert r.status_code == 200 and r.content == content
    assert r.headers["content-type"] == "application/json"
    assert r.headers[REPLAY_HEADER] == "00001-POST-v1-chat-completions.json"


def test_streams_and_binary_bodies_replay_exactly(tmp_path: Path, contracts: ContractSet) -> None:
    events = [
        RecordedEvent(0.0, "", '{"n":1}'),
        RecordedEvent(0.01, "message_start", "{}"),
        RecordedEvent(0.02, "", "x", raw="data:x\r\n\r\n"),
        RecordedEvent(0.03, "", "[DONE]"),
    ]
    stream = RecordedResponse(200, [("content-type", "text/event-stream")], events=events)
    _write(tmp_path, 1, {**CHAT, "stream": True}, stream)
    audio = bytes(range(200))
    speech = RecordedResponse(
        200, [("content-type", "audio/mpeg")], {"base64": base64.b64encode(audio).decode()}
    )
    request = RecordedRequest("POST", "/v1/audio/speech", [], [], {"json": {"input": "hi"}})
    write_cassette(tmp_path, Cassette(request, speech, seq=2), Redactor())
    client = TestClient(_app(tmp_path, contracts))
    r = client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert r.headers["content-type"] == "text/event-stream"
    assert r.content == b"".join(e.encode() for e in events)
    r = client.post("/v1/audio/speech", json={"input": "hi"})
    assert r.content == audio and r.headers["content-type"] == "audio/mpeg"


def test_repeated_matches_answer_in_recorded_order_then_repeat_the_last(
    tmp_path: Path, contracts: ContractSet
) -> None:
    _write(tmp_path, 1, CHAT, _json(429, b'{"error":{"message":"slow down"}}'))
    _write(tmp_path, 2, CHAT, _json(200, b'{"id":"second"}'))
    client = TestClient(_app(tmp_path, contracts))
    statuses = [client.post("/v1/chat/completions", json=CHAT).status_code for _ in range(4)]
    assert statuses == [429, 200, 200, 200]


def test_the_rest_goes_to_the_contract_mock_with_its_body(
    tmp_path: Path, contracts: ContractSet
) -> None:
    _write(tmp_path, 1, CHAT, _json(200, b'{"id":"rec"}'))
    client = TestClient(_app(tmp_path, contracts))
    r = client.post(
        "/v1/chat/completions",
        json={**CHAT, "model": "gpt-4o-mini"},
        headers={"authorization": "Bearer sk-any"},
    )
    assert r.status_code == 200 and REPLAY_HEADER not in r.headers
    assert r.headers["x-relaykit-operation"] == "openai.chat.completions.nonstream"
    assert r.json()["model"] == "gpt-4o-mini"  # the mock read the body passed on


def test_timing_waits_the_recorded_gaps_only_when_asked(
    tmp_path: Path, contracts: ContractSet
) -> None:
    events = [RecordedEvent(0.5, "", "a"), RecordedEvent(1.5, "", "[DONE]")]
    stream = RecordedResponse(200, [("content-type", "text/event-stream")], events=events)
    _write(tmp_path, 1, {**CHAT, "stream": True}, stream)
    for timing in (False, True):
        app = _app(tmp_path, contracts, timing=timing)
        waits: list[float] = []

        async def fake_sleep(seconds: float, waits: list[float] = waits) -> None:
            waits.append(seconds)

        app.sleep = fake_sleep
        r = TestClient(app).post("/v1/chat/completions", json={**CHAT, "stream": True})
        assert r.content == b"data: a\n\ndata: [DONE]\n\n"
        if timing:
            assert len(waits) == 2 and 0 < waits[0] <= 0.5 and 0.5 < waits[1] <= 1.5
        else:
            assert waits == []
