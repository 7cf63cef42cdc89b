"""The cassette format: bodies kept exactly, events framed exactly, redaction and matching."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mockserver.cassette_bodies import body_view, decode_body, encode_body, encode_request_body
from mockserver.cassettes import (
    REDACTED,
    Cassette,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    cassette_name,
    load_cassettes,
    next_seq,
    write_cassette,
)
from suites.redact import MASK, Redactor

KEY = "sk-cassette-secret-0123456789abcdef"


def test_the_mask_is_the_redactors() -> None:
    assert REDACTED == MASK


@pytest.mark.parametrize(
    "content",
    [
        b'{"a":1,"b":"\xc3\xa9"}',
        b'{"a": 1, "b": "\\u00e9"}',
        b'{\n  "a": 1\n}\n',
        b"[1,2,3]\n",
    ],
)
def test_json_bodies_are_kept_as_data_and_give_back_the_same_bytes(content: bytes) -> None:
    body = encode_body("application/json", content)
    assert "json" in body
    assert body["json"] == json.loads(content)
    assert decode_body(body) == content


def test_json_no_style_reproduces_is_kept_as_text_and_still_matches_as_data() -> None:
    odd = b'{ "a" :1}'
    body = encode_body("application/json", odd)
    assert body == {"text": odd.decode()}
    assert decode_body(body) == odd
    assert body_view(body) == body_view(encode_body("application/json", b'{"a":1}'))


def test_text_binary_and_oversized_bodies() -> None:
    assert encode_body("text/plain; charset=utf-8", "héllo".encode()) == {"text": "héllo"}
    audio = bytes(range(256)) * 4
    body = encode_body("audio/mpeg", audio)
    assert "base64" in body and decode_body(body) == audio
    note = encode_body("application/octet-stream", audio, limit=100)
    assert note["size"] == len(audio) and len(note["sha256"]) == 64
    with pytest.raises(ValueError, match="size and hash"):
        decode_body(note)
    assert body_view(note) == body_view(body)
    assert encode_body("application/json", b"") == {}


def test_events_keep_raw_text_only_when_the_canonical_framing_differs() -> None:
    plain = RecordedEvent.of(0.01, 'data: {"x":1}\n\n', "", '{"x":1}', None)
    assert plain.raw is None and plain.encode() == b'data: {"x":1}\n\n'
    named = RecordedEvent.of(0.02, "event: ping\ndata: {}\n\n", "ping", "{}", None)
    assert named.raw is None
    crlf = RecordedEvent.of(0.03, "data:x\r\n\r\n", "", "x", None)
    assert crlf.raw == "data:x\r\n\r\n" and crlf.encode() == b"data:x\r\n\r\n"
    comment = RecordedEvent.of(0.04, ": keep-alive\n\n", "", "", None)
    assert comment.encode() == b": keep-alive\n\n"


def _cassette(seq: int = 1, query: list[tuple[str, str]] | None = None) -> Cassette:
    return Cassette(
        request=RecordedRequest(
            "POST",
            "/v1/chat/completions",
            query or [],
            [("authorization", f"Bearer {KEY}"), ("content-type", "application/json")],
            {"json": {"model": "m", "note": f"my key is {KEY}"}, "style": "compact"},
        ),
        response=RecordedResponse(
            200,
            [("content-type", "text/event-stream")],
            events=[
                RecordedEvent(0.01, "", f'{{"echo":"{KEY}"}}'),
                RecordedEvent(0.02, "", "[DONE]"),
            ],
        ),
        seq=seq,
        upstream="http://relay.example",
    )


def test_a_written_cassette_holds_no_key_and_reads_back(tmp_path: Path) -> None:
    cassette = _cassette(query=[("key", KEY), ("a", "1")])
    path = write_cassette(tmp_path, cassette, Redactor([KEY]))
    text = path.read_text(encoding="utf-8")
    assert KEY not in text and REDACTED in text
    (back,) = load_cassettes(tmp_path)
    assert back.name == path.name == cassette_name(1, "POST", "/v1/chat/completions")
    assert back.request.query == [("key", REDACTED), ("a", "1")]
    assert back.response.events is not None
    assert [e.data for e in back.response.events] == [f'{{"echo":"{REDACTED}"}}', "[DONE]"]
    assert back.response.content().endswith(b"data: [DONE]\n\n")


def test_cassettes_load_in_recorded_order_and_bad_files_are_named(tmp_path: Path) -> None:
    for seq in (2, 1, 10):
        write_cassette(tmp_path, _cassette(seq), Redactor([KEY]))
    assert [c.seq for c in load_cassettes(tmp_path)] == [1, 2, 10]
    assert next_seq(tmp_path) == 11
    (tmp_path / "99999-broken.json").write_text('{"format": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"99999-broken\.json"):
        load_cassettes(tmp_path)


def test_matching_compares_json_as_data_and_queries_in_any_order() -> None:
    c = Cassette.from_json(_cassette(query=[("a", "1"), ("b", "2")]).to_json())
    same = encode_body(
        "application/json", b'{"note": "my key is ' + KEY.encode() + b'", "model": "m"}'
    )
    assert c.matches("post", "/v1/chat/completions", [("b", "2"), ("a", "1")], same)
    assert not c.matches("POST", "/v1/chat/completions", [("a", "1")], same)
    assert not c.matches("POST", "/v1/embeddings", [("a", "1"), ("b", "2")], same)
    other = encode_body("application/json", b'{"model": "n"}')
    assert not c.matches("POST", "/v1/chat/completions", [("a", "1"), ("b", "2")], other)


def test_a_redacted_query_value_matches_any_value(tmp_path: Path) -> None:
    write_cassette(tmp_path, _cassette(query=[("key", KEY)]), Redactor([KEY]))
    (c,) = load_cassettes(tmp_path)
    body = {"json": {"model": "m", "note": f"my key is {REDACTED}"}}
    assert c.matches("POST", "/v1/chat/completions", [("key", "sk-another")], body)


def _multipart(boundary: str, audio: bytes) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
            f"Content-Type: audio/mpeg\r\n\r\n"
        ).encode()
        + audio
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_multipart_bodies_match_field_by_field_whatever_the_boundary() -> None:
    def encode(boundary: str, audio: bytes) -> dict[str, object]:
        ct = f"multipart/form-data; boundary={boundary}"
        return asyncio.run(encode_request_body(ct, _multipart(boundary, audio)))

    first = encode("aaaa", b"ID3 sound")
    assert first["form"]["model"] == "whisper-1"  # type: ignore[index]
    assert first["form"]["file"]["size"] == 9  # type: ignore[index]
    assert body_view(first) == body_view(encode("bbbbbb", b"ID3 sound"))
    assert body_view(first) != body_view(encode("aaaa", b"ID3 other"))
