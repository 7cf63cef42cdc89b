"""Anthropic's /v1/messages stream grammar, checked on a StreamRecord.

One check id per rule of the grammar (the ``CHECKS`` below), so a relay that breaks one rule
fails that check and no other (ARCHITECTURE.md, on check ids): framing (named JSON events),
each event's schema, the event order, message_stop as the terminator, the stop_reason, usage,
tool_use input fragments, and whether it really streamed.
A rule that needs an event which never came answers SKIP and leaves the failure to the rule
that owns that event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from contracts.validation import Validators
from contracts.wire.sse import DONE
from suites import bounded
from suites.findings import Finding, Outcome, apply_rules
from suites.streams import StreamRecord, streamed_verdict

CHECKS = (
    "sse.framing",
    "sse.event_schema",
    "sse.event_order",
    "sse.terminator",
    "sse.stop_reason",
    "sse.usage",
    "sse.tool_input",
    "sse.streamed",
)
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal")
BLOCK_EVENTS = ("content_block_start", "content_block_delta", "content_block_stop")
TOOL_BLOCKS = ("tool_use", "server_tool_use")

Verdict = tuple[Outcome, str]


@dataclass(frozen=True, slots=True)
class _Event:
    """One arrival other than [DONE]: its position, its name and its data if a JSON object."""

    pos: int
    name: str
    data: dict[str, Any] | None


def check_anthropic_stream(
    op_id: str,
    record: StreamRecord,
    request: dict[str, Any],
    validators: Validators,
    events: Mapping[str, Any],
) -> list[Finding]:
    """Every stream check for one streamed /v1/messages request; ``events`` maps name -> schema."""
    parsed = _parse(record)
    max_tokens = request.get("max_tokens")
    limit = max_tokens if _is_int(max_tokens) else None
    rules: dict[str, Callable[[], Verdict]] = {
        "sse.framing": lambda: _framing(record, events),
        "sse.event_schema": lambda: _schema(parsed, validators, events),
        "sse.event_order": lambda: _order(parsed, events),
        "sse.terminator": lambda: _terminator(record, parsed),
        "sse.stop_reason": lambda: _stop_reason(parsed, limit),
        "sse.usage": lambda: _usage(parsed, limit),
        "sse.tool_input": lambda: _tool_input(parsed),
        "sse.streamed": lambda: streamed_verdict(record),
    }
    return apply_rules(op_id, rules)


def _parse(record: StreamRecord) -> list[_Event]:
    out = []
    for pos, a in enumerate(record.arrivals):
        if a.data == DONE:
            continue
        try:
            value = bounded.loads(a.data)
        except ValueError:
            value = None
        out.append(_Event(pos, a.event, value if isinstance(value, dict) else None))
    return out


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _index(event: _Event) -> int | None:
    # The type of `index` is the schema's business; order and tool input read its value, so a
    # relay that sends "1" fails event_schema only.
    value = _obj(event.data).get("index")
    if _is_int(value):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _named(parsed: list[_Event], name: str) -> list[_Event]:
    return [e for e in parsed if e.name == name and e.data is not None]


def _framing(record: StreamRecord, events: Mapping[str, Any]) -> Verdict:
    if not record.arrivals:
        return Outcome.FAIL, f"no event arrived ({record.ended}: {record.detail})".strip()
    for i, a in enumerate(record.arrivals):
        if a.data == DONE:
            continue  # sse.terminator reports it
        if a.event not in events:
            if a.event in ("", "message"):
                return Outcome.FAIL, f"event {i} has no event: name; Anthropic names every event"
            return (
                Outcome.FAIL,
                f"event {i} is named {a.event!r}, which the contract does not define",
            )
        try:
            value = bounded.loads(a.data)
        except ValueError:
            return Outcome.FAIL, f"event {i} ({a.event}) data is not JSON: {a.data[:80]!r}"
        if not isinstance(value, dict):
            return Outcome.FAIL, f"event {i} ({a.event}) data is not a JSON object"
        if value.get("type") != a.event:
            return (
                Outcome.FAIL,
                f"event {i} is named {a.event!r} but its data has type {value.get('type')!r}",
            )
    return Outcome.PASS, f"{len(record.arrivals)} named events, each JSON typed as its name"


def _schema(parsed: list[_Event], v: Validators, events: Mapping[str, Any]) -> Verdict:
    # Only events framing accepts: a wrong name or type is framing's failure, not the schema's.
    framed = [
        e
        for e in parsed
        if e.name in events and e.data is not None and e.data.get("type") == e.name
    ]
    if not framed:
        return Outcome.INCONCLUSIVE, "no well-framed event to validate"
    for e in framed:
        problems = v.problems(events[e.name], e.data, limit=1)
        if problems:
            return Outcome.FAIL, f"event {e.pos} ({e.name}) breaks its schema at {problems[0]}"
    return Outcome.PASS, f"{len(framed)} events match the schemas for their names"


def _error_text(event: _Event) -> str:
    error = _obj(_obj(event.data).get("error"))
    kind, message = error.get("type"), error.get("message")
    return ": ".join(str(part) for part in (kind, message) if part) or "(no message)"


def _order(parsed: list[_Event], events: Mapping[str, Any]) -> Verdict:
    errors = [e for e in parsed if e.name == "error"]
    if errors:
        return Outcome.FAIL, f"the relay sent an error event: {_error_text(errors[0])}"
    # ping may come anywhere; message_stop is sse.terminator's; unknown names are framing's.
    seq = [e for e in parsed if e.name in events and e.name not in ("ping", "message_stop")]
    if not seq or seq[0].name != "message_start":
        first = seq[0].name if seq else "nothing"
        return Outcome.FAIL, f"the stream opens with {first}, not message_start"
    open_blocks: set[int] = set()
    next_index = 0
    delta_at: int | None = None
    for e in seq[1:]:
        if e.name == "message_start":
            return Outcome.FAIL, f"a second message_start at event {e.pos}"
        if e.name == "message_delta":
            if delta_at is not None:
                return Outcome.FAIL, f"a second message_delta at event {e.pos}"
            if open_blocks:
                return Outcome.FAIL, f"message_delta while block(s) {sorted(open_blocks)} are open"
            delta_at = e.pos
            continue
        if e.name not in BLOCK_EVENTS:
            continue
        if delta_at is not None:
            return Outcome.FAIL, f"{e.name} at event {e.pos} comes after message_delta"
        index = _index(e)
        if index is None:
            return Outcome.INCONCLUSIVE, f"{e.name} at event {e.pos} has no readable index"
        if e.name == "content_block_start":
            if index != next_index:
                return (
                    Outcome.FAIL,
                    f"block {index} starts at event {e.pos}; block {next_index} was due",
                )
            open_blocks.add(index)
            next_index += 1
        elif index not in open_blocks:
            state = "already stopped" if index < next_index else "not started"
            return Outcome.FAIL, f"{e.name} at event {e.pos} for block {index}, which is {state}"
        elif e.name == "content_block_stop":
            open_blocks.discard(index)
    if open_blocks:
        return Outcome.FAIL, f"block(s) {sorted(open_blocks)} never got content_block_stop"
    if delta_at is None:
        return Outcome.FAIL, "no message_delta after the content blocks"
    return (
        Outcome.PASS,
        f"message_start, {next_index} block(s) started, delta'd and stopped in order, "
        "one message_delta",
    )


def _terminator(record: StreamRecord, parsed: list[_Event]) -> Verdict:
    done = [i for i, a in enumerate(record.arrivals) if a.data == DONE]
    if done:
        return Outcome.FAIL, f"a data: [DONE] at event {done[0]}; Anthropic streams send none"
    last = len(record.arrivals) - 1
    stops = [e.pos for e in parsed if e.name == "message_stop"]
    errors = [e.pos for e in parsed if e.name == "error"]
    if len(stops) > 1:
        return Outcome.FAIL, f"{len(stops)} message_stop events; exactly one is allowed"
    if stops:
        end, what = stops[0], "message_stop"
    elif errors:
        end, what = errors[0], "the error event"
    else:
        return Outcome.FAIL, f"no message_stop (stream ended: {record.ended})"
    if end != last:
        return Outcome.FAIL, f"{last - end} event(s) after {what}"
    if not record.complete:
        return Outcome.FAIL, f"{what} came but the stream did not close ({record.ended})"
    if what == "message_stop":
        return Outcome.PASS, "exactly one message_stop, last, then the stream closed"
    # An error event is a legitimate end of the framing; sse.event_order fails the stream for it.
    return Outcome.PASS, "the error event came last, then the stream closed"


def _final_delta(parsed: list[_Event]) -> dict[str, Any] | None:
    deltas = _named(parsed, "message_delta")
    return deltas[-1].data if deltas else None


def _tool_blocks(parsed: list[_Event]) -> set[int]:
    out = set()
    for e in _named(parsed, "content_block_start"):
        index = _index(e)
        if index is not None and _obj(_obj(e.data).get("content_block")).get("type") in TOOL_BLOCKS:
            out.add(index)
    return out


def _stop_reason(parsed: list[_Event], max_tokens: int | None) -> Verdict:
    final = _final_delta(parsed)
    if final is None:
        return Outcome.SKIP, "no message_delta arrived to carry a stop_reason"
    reason = _obj(final.get("delta")).get("stop_reason")
    if reason is None:
        return Outcome.FAIL, "message_delta has no stop_reason (null or missing)"
    if reason not in STOP_REASONS:
        return Outcome.FAIL, f"stop_reason {reason!r} is not one of {', '.join(STOP_REASONS)}"
    output = _obj(final.get("usage")).get("output_tokens")
    if max_tokens is not None and output == max_tokens:
        if reason != "max_tokens":
            return (
                Outcome.FAIL,
                f"output_tokens hit max_tokens ({max_tokens}) but stop_reason is {reason}",
            )
        return Outcome.PASS, f"stop_reason max_tokens, as output_tokens reached {max_tokens}"
    tools = _tool_blocks(parsed)
    if tools and reason != "tool_use":
        return Outcome.FAIL, f"a tool_use block was streamed but stop_reason is {reason}"
    if reason == "tool_use" and not tools:
        return Outcome.FAIL, "stop_reason is tool_use but no tool_use block was streamed"
    return Outcome.PASS, f"stop_reason {reason}, consistent with the blocks and usage"


def _usage(parsed: list[_Event], max_tokens: int | None) -> Verdict:
    starts = _named(parsed, "message_start")
    if not starts:
        return Outcome.SKIP, "no message_start arrived to carry the input usage"
    start_usage = _obj(_obj(_obj(starts[0].data).get("message")).get("usage"))
    input_tokens = start_usage.get("input_tokens")
    if not _is_int(input_tokens):
        return Outcome.FAIL, f"message_start usage.input_tokens is {input_tokens!r}, not an integer"
    final = _final_delta(parsed)
    if final is None:
        return Outcome.SKIP, f"input_tokens {input_tokens}; no message_delta carried output_tokens"
    output = _obj(final.get("usage")).get("output_tokens")
    if not _is_int(output) or output < 0:
        return Outcome.FAIL, f"message_delta usage.output_tokens is {output!r}, not an integer >= 0"
    if max_tokens is not None and output > max_tokens:
        return Outcome.FAIL, f"output_tokens {output} exceeds the request's max_tokens {max_tokens}"
    bound = f" (max_tokens {max_tokens})" if max_tokens is not None else ""
    return Outcome.PASS, f"input_tokens {input_tokens}, output_tokens {output}{bound}"


def _tool_input(parsed: list[_Event]) -> Verdict:
    tools = _tool_blocks(parsed)
    if not tools:
        return Outcome.PASS, "no tool_use blocks"
    fragments: dict[int, list[str]] = {i: [] for i in tools}
    stopped: set[int] = set()
    for e in parsed:
        index = _index(e) if e.data is not None else None
        if index not in tools:
            continue
        delta = _obj(_obj(e.data).get("delta"))
        if e.name == "content_block_delta" and delta.get("type") == "input_json_delta":
            partial = delta.get("partial_json")
            fragments[index].append(partial if isinstance(partial, str) else "")
        elif e.name == "content_block_stop":
            stopped.add(index)
    # A block that never stopped is sse.event_order's failure; its input is not complete yet.
    done = sorted(stopped)
    if not done:
        return Outcome.INCONCLUSIVE, f"tool_use block(s) {sorted(tools)} never stopped"
    for index in done:
        text = "".join(fragments[index])
        if not text.strip():
            continue  # no input fragments: the input stays {}
        try:
            value = bounded.loads(text)
        except ValueError:
            return (
                Outcome.FAIL,
                f"tool_use block {index}: fragments join into invalid JSON {text[:80]!r}",
            )
        if not isinstance(value, dict):
            kind = type(value).__name__
            return (
                Outcome.FAIL,
                f"tool_use block {index}: fragments join into a {kind}, not an object",
            )
    return (
        Outcome.PASS,
        f"{len(done)} tool_use block(s) whose input fragments join into a JSON object",
    )
