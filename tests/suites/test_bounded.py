"""Bounded reading and bounded JSON: caps hold while inflating, deep JSON is refused with a
reason and never raises RecursionError, the deadline holds whatever the server drips."""

from __future__ import annotations

import asyncio
import json
import zlib

import httpx
import pytest

from contracts.model import ContractSet
from contracts.validation import Validators
from suites import bounded
from suites.deadline import Deadline, within
from suites.guard import RunGuard
from suites.judges import body_schema
from suites.profile import Budget, Limits
from suites.transport import Exchange, RunStopped, Transport
from tests.hostile_server import Conn, gzip_bomb_parts, hostile_relay

KEY = "sk-relaykit-bounded-0123456789"


def test_shape_counts_depth_outside_strings() -> None:
    text = json.dumps({"a": [1, 2, {"b": 'x"]]]]\\[[[[{'}], "c\\": "[[["}).encode()
    assert bounded.shape(text) == (3, 7)
    assert bounded.shape(b"[]") == (1, 2) and bounded.shape(b"3") == (0, 1)


def test_deep_json_is_refused_with_its_depth_never_a_recursion_error() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(bounded.JsonRefused, match="nested 200,000 deep, over the 64 levels"):
        bounded.loads(deep)
    assert bounded.json_or_none(deep) is None
    assert bounded.loads(b"[" * 64 + b"]" * 64) is not None
    # anything handed a string of relay data is bounded too (tool call arguments, SSE data)
    assert bounded.json_or_none(deep.decode()) is None


def test_size_and_value_counts_are_bounded() -> None:
    with pytest.raises(bounded.JsonRefused, match="over the 1 KiB cap"):
        bounded.loads(b"[" + b"1," * 600 + b"1]", max_bytes=1024)
    many = b"[" + b"{}," * (bounded.MAX_JSON_VALUES + 10) + b"{}]"
    with pytest.raises(bounded.JsonRefused, match="JSON values, over the 1,000,000 read"):
        bounded.loads(many)


def test_why_a_body_is_not_json_is_said() -> None:
    assert bounded.why_not_json(b'{"a": 1}') == ""
    assert "not JSON ('utf-8' codec can't decode" in bounded.why_not_json(b'{"a": "\xff"}')
    assert bounded.why_not_json(b"[" * 100 + b"]" * 100).startswith("the body was not parsed")
    assert bounded.refusal(b"<html>" + b"[" * 100) == ""  # no JSON at all: nothing to refuse


def test_a_gzip_bomb_is_inflated_a_piece_at_a_time() -> None:
    head, segment, _ = gzip_bomb_parts()
    decoder = bounded.Decoder("gzip")
    wire = head + segment * 64  # the first 64 MiB of the 2 GiB
    largest, total = 0, 0
    for i in range(0, len(wire), 4096):
        for piece in decoder.feed(wire[i : i + 4096]):
            largest, total = max(largest, len(piece)), total + len(piece)
    assert total == 64 * 1024 * 1024 and largest <= bounded.PIECE


def test_deflate_both_ways_chains_and_corrupt_data() -> None:
    text = b"hello " * 1000
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    for data in (zlib.compress(text), raw.compress(text) + raw.flush()):
        decoder = bounded.Decoder("deflate")
        assert b"".join([*decoder.feed(data), *decoder.end()]) == text
    gz = zlib.compressobj(6, zlib.DEFLATED, 31)
    twice = zlib.compressobj(6, zlib.DEFLATED, 31)
    inner = gz.compress(text) + gz.flush()
    decoder = bounded.Decoder("gzip, gzip")
    assert b"".join(decoder.feed(twice.compress(inner) + twice.flush())) == text
    assert b"".join(bounded.Decoder("br").feed(b"as is")) == b"as is"  # not asked for: kept
    with pytest.raises(httpx.DecodingError):
        list(bounded.Decoder("gzip").feed(b"\x1f\x8b\x08\x00not gzip at all"))


def _transport(url: str, **limits: float) -> Transport:
    return Transport(url, KEY, Limits(rps=0, retries=0, **limits), Budget())  # type: ignore[arg-type]


async def _endless_chunked(c: Conn) -> bool:
    await c.head("200 OK", [("content-type", "application/json"), ("connection", "close")])
    while True:
        await c.send(b" " * 65536)


async def _headers_dripped(c: Conn) -> bool:
    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}":
        await c.send(bytes([byte]))
        await asyncio.sleep(0.1)
    return True


def test_a_body_without_length_is_cut_at_the_cap_and_never_parsed() -> None:
    with hostile_relay(_endless_chunked) as url:
        t = _transport(url, timeout=20, max_body_bytes=1024 * 1024)
        exchange = t.send(t.build("GET", "/v1/models"))
    assert exchange.status is None and exchange.json() is None
    assert exchange.error.startswith("HTTP 200, then the body went over max_body_bytes (1 MiB)")
    assert len(exchange.content) <= 2000  # only an excerpt is kept


def test_the_deadline_holds_while_the_headers_are_dripped() -> None:
    # every byte comes well within the 1 s read timeout: only the deadline can end it
    with hostile_relay(_headers_dripped) as url:
        t = _transport(url, timeout=1, stream_stall=1)
        exchange = t.send(t.build("GET", "/v1/models"))
    assert exchange.error == "timeout (1 s) passed before the headers came"


def test_a_deadline_block_keeps_the_earlier_deadline() -> None:
    with within(Deadline(10.0, "outer")), within(Deadline(20.0, "inner")) as inner:
        assert inner.name == "outer"


def test_the_guard_stops_a_run_that_gets_no_answers() -> None:
    guard = RunGuard(900)
    for _ in range(5):
        guard.note("timed out")
    guard.note("")
    assert guard.stopped() == ""
    guard.note("timed out")
    assert guard.stopped() == "relay not answering: 6 of the first 7 requests timed out"
    mixed = RunGuard(900)
    for kind in ("timed out", "broke off") * 3:
        mixed.note(kind)
    assert mixed.stopped().endswith("6 of the first 6 requests got no answer")
    answered = RunGuard(900)
    for kind in [""] * 5 + ["timed out"] * 20:
        answered.note(kind)  # only the first ten count: a relay that answered is not dead
    assert answered.stopped() == ""


def test_the_run_deadline_stops_sending() -> None:
    now = [0.0]
    guard = RunGuard(30, clock=lambda: now[0])
    assert guard.stopped() == "" and guard.time_left() == 30
    now[0] = 31.0
    assert guard.stopped() == "run deadline (30 s) reached"
    t = _transport("http://127.0.0.1:9", run_seconds=1)
    t.guard = guard
    with pytest.raises(RunStopped, match="not sent: run deadline"):
        t.send(t.build("GET", "/v1/models"))
    assert t.spend.requests == 0


def test_a_body_that_was_not_read_whole_is_no_json() -> None:
    exchange = Exchange({}, status=None, content=b"{}", error="HTTP 200, then ...")
    assert exchange.json() is None


def test_redirects_are_never_followed() -> None:
    assert _transport("http://127.0.0.1:9").client.follow_redirects is False


def test_the_schema_finding_says_why_the_body_was_not_read(contracts: ContractSet) -> None:
    op = contracts.get("openai.models.list")
    deep = b"[" * 100 + b"]" * 100
    why = bounded.why_not_json(deep)
    found = body_schema(op, Validators(contracts.components), "application/json", None, why)
    assert found.message == "the body was not parsed: JSON nested 100 deep, over the 64 levels read"
