"""The wire modules: SSE framing both ways, media types, how keys are presented and read."""

from __future__ import annotations

import pytest
import yaml

from contracts.loader import META_SCHEMA_FILE
from contracts.openapi import SECURITY_SCHEMES
from contracts.wire import auth, mediatype, sse


def _parse_in_pieces(data: bytes, size: int) -> tuple[list[sse.SseEvent], str]:
    parser = sse.SseParser()
    events = []
    for i in range(0, len(data), size):
        events += parser.feed(data[i : i + size])
    events += parser.feed(b"", final=True)
    return events, parser.tail()


def test_encode_writes_name_id_and_one_data_line_per_line() -> None:
    assert sse.encode("{}") == b"data: {}\n\n"
    assert sse.encode(sse.DONE) == b"data: [DONE]\n\n"
    assert sse.encode("a\nb", "delta", "7") == b"event: delta\nid: 7\ndata: a\ndata: b\n\n"
    assert sse.encode("", None, None) == b"data: \n\n"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_the_parser_reads_any_line_end_cut_anywhere(size: int, end: str) -> None:
    text = f": ping{end}{end}event: x{end}data: 1{end}data: 2{end}id: 9{end}{end}data: é{end}{end}"
    events, tail = _parse_in_pieces(text.encode(), size)
    assert [(e.event, e.data, e.id, e.dispatched) for e in events] == [
        ("", "", None, False),
        ("x", "1\n2", "9", True),
        ("", "é", None, True),
    ]
    assert "".join(e.raw for e in events) == text and tail == ""
    assert [e.type for e in events[1:]] == ["x", "message"]


def test_what_the_encoder_writes_the_parser_reads_back() -> None:
    frames = sse.encode("line one\nline two", "named", "id-1") + sse.encode(sse.DONE)
    events, _ = _parse_in_pieces(frames, 5)
    assert [(e.event, e.data, e.id) for e in events] == [
        ("named", "line one\nline two", "id-1"),
        ("", "[DONE]", None),
    ]
    assert "".join(e.raw for e in events).encode() == frames


def test_a_cut_stream_leaves_its_partial_event_as_the_tail() -> None:
    events, tail = _parse_in_pieces(b'data: {"a": 1}\n\ndata: {"b"', 4)
    assert [e.data for e in events] == ['{"a": 1}'] and tail == 'data: {"b"'


def test_a_lone_cr_at_the_end_waits_for_the_next_byte_unless_the_stream_ended() -> None:
    parser = sse.SseParser()
    assert parser.feed(b"data: a\r\r") == []  # the last CR may start a CRLF
    assert [e.data for e in parser.feed(b"data: b\n\n")] == ["a", "b"]
    assert parser.feed(b"data: c\r\r") == []
    assert [e.data for e in parser.feed(b"", final=True)] == ["c"]


def test_fields_follow_the_whatwg_rules() -> None:
    event = sse.parse_event("\ufeffdata:no space\nid: bad\0id\nretry: 10\nnonsense: x\n\n")
    assert (event.data, event.id, event.dispatched) == ("no space", None, True)
    assert not sse.parse_event(": only a comment\n\n").dispatched
    assert sse.parse_event("data\n\n").data == ""  # a field name alone: empty value


def test_invalid_utf8_is_replaced_not_raised() -> None:
    events, _ = _parse_in_pieces(b"data: \xff\xfe\n\n", 1)
    assert events[0].data == "\ufffd\ufffd"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("application/json; charset=utf-8", "application/json"),
        (b"Text/Event-Stream;charset=UTF-8", "text/event-stream"),
        ("  multipart/form-data ; boundary=x", "multipart/form-data"),
        ("", ""),
        (None, ""),
    ],
)
def test_media_type_drops_parameters_and_case(value: str | bytes | None, kind: str) -> None:
    assert mediatype.media_type(value) == kind


def test_media_type_families() -> None:
    assert mediatype.is_json("application/problem+json") and not mediatype.is_json("text/json")
    assert mediatype.is_text("text/plain; charset=utf-8") and mediatype.is_text("application/xml")
    assert not mediatype.is_text("image/png")
    assert mediatype.is_event_stream(b"text/event-stream") and sse.MEDIA_TYPE == "text/event-stream"


@pytest.mark.parametrize("scheme", sorted(auth.SCHEMES))
def test_a_presented_key_is_read_back_under_its_scheme(scheme: str) -> None:
    headers = auth.present(scheme, "sk-secret")
    query = auth.present_query(scheme, "sk-secret")
    assert [*headers, *query] == [auth.SCHEMES[scheme].key]  # in one place, never both
    assert auth.presented_key(headers, [scheme], query) == "sk-secret"
    assert set(headers) <= auth.KEY_HEADERS <= auth.SECRET_HEADERS
    assert set(query) <= auth.KEY_QUERY <= auth.SECRET_QUERY


def test_geminis_key_in_the_header_or_the_query() -> None:
    schemes = ["x-goog-api-key", "key-query"]
    assert auth.presented_key({"x-goog-api-key": " AIza "}, schemes) == "AIza"
    assert auth.presented_key({}, schemes, {"key": "AIza"}) == "AIza"
    assert auth.presented_key({}, schemes, {"KEY": "AIza"}) is None  # query names are exact
    assert auth.presented_key({}, ["bearer"], {"key": "AIza"}) is None  # not its scheme
    assert auth.present_query("bearer", "k") == {} and auth.present("key-query", "k") == {}


def test_presented_key_rules() -> None:
    assert auth.presented_key({"authorization": "Bearer  tok "}, ["bearer"]) == "tok"
    assert auth.presented_key({"authorization": "Basic tok"}, ["bearer"]) is None
    assert auth.presented_key({"authorization": "Bearer "}, ["bearer"]) is None
    assert auth.presented_key({}, ["x-api-key", "none"]) == ""
    assert auth.presented_key({"x-api-key": "k"}, ["bearer", "x-api-key"]) == "k"
    assert auth.present(auth.NONE, "k") == {}
    assert auth.bearer_token("bearer abc") == "abc" and auth.bearer_token("abc") is None


def test_the_meta_schema_and_the_openapi_export_name_the_same_schemes() -> None:
    meta = yaml.safe_load(META_SCHEMA_FILE.read_text(encoding="utf-8"))
    named = meta["properties"]["auth"]["items"]["enum"]
    assert set(named) == {*auth.SCHEMES, auth.NONE}
    assert set(SECURITY_SCHEMES) == set(auth.SCHEMES)
    assert SECURITY_SCHEMES["access-token"]["name"] == "Access-Token"
    assert SECURITY_SCHEMES["bearer"]["scheme"] == "bearer"
    assert SECURITY_SCHEMES["key-query"] == {"type": "apiKey", "in": "query", "name": "key"}
    assert SECURITY_SCHEMES["x-goog-api-key"]["in"] == "header"
