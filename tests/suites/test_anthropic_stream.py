"""Each breakage of the Anthropic stream grammar fails the check aimed at it, and only that one."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from suites.anthropic_stream import CHECKS, check_anthropic_stream
from suites.findings import Finding, Outcome
from suites.streams import Arrival, StreamLimits, StreamRecord, read_sse

OP_ID = "anthropic.messages.stream"
REQUEST_FOR = {
    "hello": "hello-stream",
    "tool-use": "tool-use",
    "overloaded-midstream": "hello-stream",
}
Events = list[tuple[str, Any]]


def _op(contracts: ContractSet) -> Operation:
    return contracts.get(OP_ID)


def _events(contracts: ContractSet, name: str) -> Events:
    example = _op(contracts).stream_example(name)
    assert example is not None, name
    return [(e["event"], copy.deepcopy(e["data"])) for e in example.value]


def _request(contracts: ContractSet, stream_name: str) -> dict[str, Any]:
    wanted = REQUEST_FOR[stream_name]
    example = next(e for e in _op(contracts).request.examples if e.name == wanted)
    return {**copy.deepcopy(example.value), "stream": True}


def _record(events: Events, ended: str = "eof") -> StreamRecord:
    arrivals = [
        Arrival(0.01 * (i + 1), name, data if isinstance(data, str) else json.dumps(data))
        for i, (name, data) in enumerate(events)
    ]
    return StreamRecord(arrivals=arrivals, ended=ended)


def _check(contracts: ContractSet, record: StreamRecord, request: dict[str, Any]) -> list[Finding]:
    events = _op(contracts).stream.events  # type: ignore[union-attr]
    return check_anthropic_stream(OP_ID, record, request, Validators(contracts.components), events)


@pytest.mark.parametrize("name", ["hello", "tool-use"])
def test_the_contract_examples_pass_every_check(contracts: ContractSet, name: str) -> None:
    found = _check(contracts, _record(_events(contracts, name)), _request(contracts, name))
    assert [f.check_id for f in found] == list(CHECKS)
    assert {f.check_id: f.outcome for f in found} == dict.fromkeys(CHECKS, Outcome.PASS), found
    assert all(f.source == "" and f.operation_id == OP_ID for f in found)


def test_no_tool_blocks_is_said_so(contracts: ContractSet) -> None:
    found = _check(contracts, _record(_events(contracts, "hello")), _request(contracts, "hello"))
    tool = next(f for f in found if f.check_id == "sse.tool_input")
    assert tool.message == "no tool_use blocks"


# --- breakages -----------------------------------------------------------------------------

Edit = Callable[[Events], Events]


@dataclass(frozen=True)
class Case:
    """One breakage: the example it starts from, the edit, and what the failing message says."""

    check: str
    base: str
    edit: Edit
    says: str
    request: dict[str, Any] = field(default_factory=dict)
    ended: str = "eof"


def _set(index: int, path: str, value: Any) -> Edit:
    """Set a dotted field of event ``index``'s data."""

    def edit(ev: Events) -> Events:
        node = ev[index][1]
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
        return ev

    return edit


def _insert(at: int, name: str, data: Any) -> Edit:
    return lambda ev: [*ev[:at], (name, data), *ev[at:]]


def _reorder(*order: int | slice) -> Edit:
    def edit(ev: Events) -> Events:
        out: Events = []
        for part in order:
            out.extend(ev[part] if isinstance(part, slice) else [ev[part]])
        return out

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(ev: Events) -> Events:
        for e in edits:
            ev = e(ev)
        return ev

    return edit


ERROR = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

# hello:    0 message_start, 1 start 0, 2 ping, 3-4 delta 0, 5 stop 0, 6 message_delta, 7 stop
# tool-use: 0 message_start, 1 start 0, 2 ping, 3-4 delta 0, 5 stop 0, 6 start 1 (tool_use),
#           7-9 input_json_delta 1, 10 stop 1, 11 message_delta, 12 message_stop
CASES = {
    "drop message_stop": Case("sse.terminator", "hello", lambda ev: ev[:-1], "no message_stop"),
    "add [DONE]": Case(
        "sse.terminator", "hello", lambda ev: [*ev, ("message", "[DONE]")], "[DONE]"
    ),
    "two message_stop": Case(
        "sse.terminator", "hello", lambda ev: [*ev, ev[-1]], "2 message_stop events"
    ),
    "ping after message_stop": Case(
        "sse.terminator",
        "hello",
        lambda ev: [*ev, ("ping", {"type": "ping"})],
        "1 event(s) after message_stop",
    ),
    "not closed": Case(
        "sse.terminator", "hello", lambda ev: ev, "did not close (stall)", ended="stall"
    ),
    "swap block order": Case(
        "sse.event_order",
        "tool-use",
        _reorder(0, slice(6, 11), slice(1, 6), slice(11, None)),
        "block 1 starts at event 1; block 0 was due",
    ),
    "delta before start": Case(
        "sse.event_order",
        "hello",
        _reorder(0, 3, 1, 2, slice(4, None)),
        "for block 0, which is not started",
    ),
    "message_start not first": Case(
        "sse.event_order",
        "hello",
        _reorder(1, 0, slice(2, None)),
        "opens with content_block_start",
    ),
    "message_delta inside a block": Case(
        "sse.event_order",
        "hello",
        _reorder(slice(0, 5), 6, 5, 7),
        "message_delta while block(s) [0] are open",
    ),
    "delta after stop": Case(
        "sse.event_order",
        "hello",
        _reorder(slice(0, 3), 3, 5, 4, slice(6, None)),
        "for block 0, which is already stopped",
    ),
    "block never stopped": Case(
        "sse.event_order",
        "tool-use",
        lambda ev: [*ev[:10], *ev[11:]],
        "block(s) [1] are open",
    ),
    "two message_delta": Case(
        "sse.event_order", "hello", _reorder(slice(0, 7), 6, 7), "a second message_delta"
    ),
    "error event": Case(
        "sse.event_order",
        "hello",
        lambda ev: [*ev[:4], ("error", ERROR)],
        "the relay sent an error event: overloaded_error: Overloaded",
    ),
    "overloaded-midstream example": Case(
        "sse.event_order", "overloaded-midstream", lambda ev: ev, "error event"
    ),
    "null stop_reason": Case(
        "sse.stop_reason", "hello", _set(6, "delta.stop_reason", None), "no stop_reason"
    ),
    "tool_use block, end_turn": Case(
        "sse.stop_reason",
        "tool-use",
        _set(11, "delta.stop_reason", "end_turn"),
        "a tool_use block was streamed but stop_reason is end_turn",
    ),
    "tool_use reason, no tool block": Case(
        "sse.stop_reason",
        "hello",
        _set(6, "delta.stop_reason", "tool_use"),
        "no tool_use block was streamed",
    ),
    "max_tokens reached, end_turn": Case(
        "sse.stop_reason",
        "hello",
        _set(6, "usage.output_tokens", 12),
        "output_tokens hit max_tokens (12) but stop_reason is end_turn",
        request={"max_tokens": 12},
    ),
    "output over max_tokens": Case(
        "sse.usage",
        "hello",
        _set(6, "usage.output_tokens", 300),
        "output_tokens 300 exceeds the request's max_tokens 256",
    ),
    "bad partial_json": Case(
        "sse.tool_input",
        "tool-use",
        _set(9, "delta.partial_json", 'is", "unit": "celsius"'),
        "tool_use block 1: fragments join into invalid JSON",
    ),
    "partial_json not an object": Case(
        "sse.tool_input",
        "tool-use",
        _both(_set(8, "delta.partial_json", "[1, "), _set(9, "delta.partial_json", "2]")),
        "a list, not an object",
    ),
    "index as a string": Case(
        "sse.event_schema", "tool-use", _set(8, "index", "1"), "event 8 (content_block_delta)"
    ),
    "message_start role": Case(
        "sse.event_schema", "hello", _set(0, "message.role", "user"), "message.role"
    ),
    "unknown delta type": Case(
        "sse.event_schema", "hello", _set(3, "delta.type", "bogus_delta"), "delta.type"
    ),
    "unknown event name": Case(
        "sse.framing",
        "tool-use",
        _insert(4, "content_block_note", {"type": "content_block_note"}),
        "named 'content_block_note', which the contract does not define",
    ),
    "data-only event": Case(
        "sse.framing", "hello", _insert(2, "message", {"type": "ping"}), "has no event: name"
    ),
    "type differs from name": Case(
        "sse.framing", "hello", _set(2, "type", "pong"), "but its data has type 'pong'"
    ),
    "data not JSON": Case(
        "sse.framing", "hello", lambda ev: [*ev[:2], ("ping", "pong"), *ev[3:]], "not JSON"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_one_breakage_fails_one_check(contracts: ContractSet, name: str) -> None:
    case = CASES[name]
    events = case.edit(_events(contracts, case.base))
    request = {**_request(contracts, case.base), **case.request}
    found = _check(contracts, _record(events, case.ended), request)
    failed = [f for f in found if f.outcome is Outcome.FAIL]
    assert [f.check_id for f in failed] == [case.check], [(f.check_id, f.message) for f in found]
    assert case.says in failed[0].message


def test_a_burst_fails_only_streamed(contracts: ContractSet) -> None:
    good = _record(_events(contracts, "tool-use"))
    burst = replace(good, arrivals=[replace(a, at=0.5) for a in good.arrivals])
    found = _check(contracts, burst, _request(contracts, "tool-use"))
    assert [f.check_id for f in found if f.outcome is Outcome.FAIL] == ["sse.streamed"]


def test_an_error_event_leaves_what_it_cut_unjudged(contracts: ContractSet) -> None:
    record = _record(_events(contracts, "overloaded-midstream"))
    got = {f.check_id: f.outcome for f in _check(contracts, record, _request(contracts, "hello"))}
    assert got == {
        "sse.framing": Outcome.PASS,
        "sse.event_schema": Outcome.PASS,
        "sse.event_order": Outcome.FAIL,
        "sse.terminator": Outcome.PASS,
        "sse.stop_reason": Outcome.SKIP,
        "sse.usage": Outcome.SKIP,
        "sse.tool_input": Outcome.PASS,
        "sse.streamed": Outcome.PASS,
    }


def test_an_empty_stream_fails_framing(contracts: ContractSet) -> None:
    record = StreamRecord(ended="not-sse", detail="expected text/event-stream")
    found = {f.check_id: f for f in _check(contracts, record, _request(contracts, "hello"))}
    assert found["sse.framing"].outcome is Outcome.FAIL
    assert "not-sse" in found["sse.framing"].message
    assert found["sse.event_schema"].outcome is Outcome.INCONCLUSIVE
    assert found["sse.streamed"].outcome is Outcome.INCONCLUSIVE


# --- a real stream from the mock -------------------------------------------------------------


@pytest.fixture(scope="module")
def paced_url(contracts: ContractSet) -> Iterator[str]:
    with serve_in_thread(create_app(contracts, MockConfig(ttfe=0, interval=0.005))) as url:
        yield url


def test_the_mock_stream_passes_every_check(contracts: ContractSet, paced_url: str) -> None:
    body = next(e.value for e in _op(contracts).request.examples if e.value.get("stream"))
    headers = {"x-api-key": "sk-anything", "anthropic-version": "2023-06-01"}
    with httpx.Client(timeout=httpx.Timeout(10, read=5)) as client:
        sent = time.monotonic()
        with client.stream("POST", f"{paced_url}/v1/messages", json=body, headers=headers) as r:
            assert r.status_code == 200
            record = read_sse(r, StreamLimits(stall=5), sent)
    found = _check(contracts, record, body)
    assert {f.check_id: f.outcome for f in found} == dict.fromkeys(CHECKS, Outcome.PASS), found
