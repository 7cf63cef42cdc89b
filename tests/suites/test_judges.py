"""The shared verdicts (suites/judges.py) on answers made in process: httpx.MockTransport serves
the bytes where a server is not the point."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from contracts.wire import sse
from suites import judges
from suites.findings import Finding, Outcome
from suites.probes import Probe
from suites.streams import StreamLimits, StreamRecord, read_sse


@pytest.fixture(scope="module")
def validators(contracts: ContractSet) -> Validators:
    return Validators(contracts.components)


def outcomes(findings: list[Finding]) -> dict[str, Outcome]:
    return {f.check_id: f.outcome for f in findings}


def probe(op: Operation, body: Any = None) -> Probe:
    value = body if body is not None else op.request.examples[0].value
    return Probe(op, "example:test", value)


def record_of(frames: bytes) -> StreamRecord:
    """A StreamRecord read by the suites' reader from ``frames`` served in process."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": sse.MEDIA_TYPE}, content=frames)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with client, client.stream("POST", "http://relay/v1/chat/completions") as response:
        return read_sse(response, StreamLimits(), time.monotonic())


def chat_frames(op: Operation, done: bool = True) -> bytes:
    assert op.stream is not None
    events = op.stream.examples[0].value
    frames = b"".join(sse.encode(json.dumps(e)) for e in events)
    return frames + (sse.encode(sse.DONE) if done else b"")


def test_expected_content_type_follows_the_request(contracts: ContractSet) -> None:
    chat = contracts.get("openai.chat.completions.nonstream")
    assert judges.expected_content_type(probe(chat)) == "application/json"
    streamed = contracts.get("openai.chat.completions.stream")
    assert judges.expected_content_type(probe(streamed)) == "text/event-stream"
    stt = contracts.get("openai.audio.transcriptions")
    assert judges.expected_content_type(Probe(stt, "x", {"response_format": "srt"})) == "text/plain"


def test_content_types_match_by_family_for_media_only() -> None:
    assert judges.type_matches("audio/mpeg", "audio/wav")
    assert not judges.type_matches("application/json", "text/plain")
    assert judges.type_matches("image/png", "image/png")


def test_a_conforming_json_answer_passes(contracts: ContractSet, validators: Validators) -> None:
    op = contracts.get("openai.models.list")
    content = json.dumps(op.response.examples[0].value).encode()
    found = judges.success(probe(op, {}), validators, "application/json", content, None, None)
    assert outcomes(found)["response.content_type"] is Outcome.PASS
    assert outcomes(found)["response.schema"] is Outcome.PASS


def test_a_body_off_its_schema_fails_schema_only(
    contracts: ContractSet, validators: Validators
) -> None:
    op = contracts.get("openai.models.list")
    found = judges.success(
        probe(op, {}), validators, "application/json", b'{"object": 3}', None, None
    )
    assert outcomes(found)["response.content_type"] is Outcome.PASS
    assert outcomes(found)["response.schema"] is Outcome.FAIL
    text = judges.success(probe(op, {}), validators, "text/html", b"<html>", None, None)
    assert outcomes(text)["response.content_type"] is Outcome.FAIL


def test_error_bodies_are_judged_by_the_operations_envelope(
    contracts: ContractSet, validators: Validators
) -> None:
    op = contracts.get("openai.chat.completions.nonstream")
    good = {
        "error": {"message": "no", "type": "invalid_request_error", "param": None, "code": None}
    }
    verdict = judges.error_envelope(op, contracts.envelopes, validators, 400, good)
    assert verdict.outcome is Outcome.PASS
    bad = judges.error_envelope(op, contracts.envelopes, validators, 400, {"detail": "no"})
    assert bad.outcome is Outcome.FAIL and "openai envelope" in bad.message
    none = judges.error_envelope(op, contracts.envelopes, validators, 500, None)
    assert none.outcome is Outcome.FAIL and "not JSON" in none.message


def test_a_stream_read_in_process_passes_its_grammar(
    contracts: ContractSet, validators: Validators
) -> None:
    op = contracts.get("openai.chat.completions.stream")
    record = record_of(chat_frames(op))
    assert record.complete and record.arrivals[-1].data == sse.DONE
    found = outcomes(judges.stream(probe(op), validators, sse.MEDIA_TYPE, record, None))
    assert found["response.content_type"] is Outcome.PASS
    assert found["sse.framing"] is Outcome.PASS and found["sse.terminator"] is Outcome.PASS
    assert found["sse.event_schema"] is Outcome.PASS


def test_a_stream_without_done_fails_the_terminator_only(
    contracts: ContractSet, validators: Validators
) -> None:
    op = contracts.get("openai.chat.completions.stream")
    record = record_of(chat_frames(op, done=False))
    found = judges.stream(probe(op), validators, sse.MEDIA_TYPE, record, None)
    failed = {f.check_id for f in found if f.outcome is Outcome.FAIL}
    assert "sse.terminator" in failed
    assert not failed & {"sse.framing", "sse.event_schema", "response.content_type"}
