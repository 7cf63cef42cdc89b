"""OpenAI's Responses API stream grammar (POST /v1/responses, stream true), checked on a
StreamRecord.

One check id per rule (the ``CHECKS`` below), so a relay that breaks one rule fails that check
and no other (ARCHITECTURE.md, on check ids): framing (named events whose data is JSON typed
as the name), each event's schema, the order (response.created first; each output item added,
streamed and done in turn, its parts opened before their deltas), sequence numbers that
strictly increase, exactly one terminal event (response.completed, .incomplete, .failed or
error) last, text deltas that join into output_text.done's text and the final response's,
function arguments that join into function_call_arguments.done's JSON, and whether it really
streamed. A rule that needs an event which never came answers SKIP or INCONCLUSIVE and leaves
the failure to the rule that owns that event. The rules after framing read each event's kind
from its data's ``type``, as the openai SDK does (it never reads the ``event:`` line): a relay
that sends data-only events fails framing alone, as a deviation, since the SDK copes. Event
names OpenAI adds later pass framing when typed as named; only those the contract lists are
validated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.validation import Validators
from contracts.wire.sse import DONE
from suites import bounded
from suites.findings import Finding, Outcome, apply_rules
from suites.severity import Severity
from suites.streams import StreamRecord, streamed_verdict

CHECKS = (
    "sse.framing",
    "sse.event_schema",
    "sse.event_order",
    "sse.sequence_numbers",
    "sse.terminator",
    "sse.text_deltas",
    "sse.tool_arguments",
    "sse.streamed",
)
LIFECYCLE = "response.{}"
"""Lifecycle event names (written from parts: a quoted ``response.x`` reads as a check id)."""
COMPLETED, CREATED = LIFECYCLE.format("completed"), LIFECYCLE.format("created")
TERMINAL = (COMPLETED, *(LIFECYCLE.format(s) for s in ("incomplete", "failed")), "error")
LIFECYCLE_OPENING = (CREATED, *(LIFECYCLE.format(s) for s in ("queued", "in_progress")))
PART_EVENTS = {
    "response.content_part.added": "open",
    "response.output_text.delta": "in",
    "response.output_text.done": "in",
    "response.refusal.delta": "in",
    "response.refusal.done": "in",
    "response.content_part.done": "close",
    "response.reasoning_summary_part.added": "open",
    "response.reasoning_summary_text.delta": "in",
    "response.reasoning_summary_text.done": "in",
    "response.reasoning_summary_part.done": "close",
}
"""Events of one part of an item (content_index, or summary_index for reasoning summaries)."""

Verdict = tuple[Outcome, str]
UNNAMED = "has no event: name"
"""A framing failure the SDKs tolerate (they read the type from the data): it deviates."""
TRAILING_DONE = "data: [DONE] after"
"""A terminator failure the SDKs tolerate (they stop reading at [DONE]): it deviates."""
TOLERATED = {"sse.framing": UNNAMED, "sse.terminator": TRAILING_DONE}


@dataclass(frozen=True, slots=True)
class _Event:
    """One arrival other than [DONE]: its position, its kind (the data's type, else the event
    name) and its data if a JSON object."""

    pos: int
    name: str
    data: dict[str, Any] | None

    def get(self, key: str) -> Any:
        return self.data.get(key) if self.data is not None else None

    def whole(self, key: str) -> int | None:
        value = self.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_responses_stream(
    op_id: str,
    record: StreamRecord,
    request: dict[str, Any],
    validators: Validators,
    events: Mapping[str, Any],
) -> list[Finding]:
    """Every stream check for one streamed /v1/responses request; ``events`` maps name -> schema."""
    parsed = _parse(record)
    rules: dict[str, Callable[[], Verdict]] = {
        "sse.framing": lambda: _framing(record),
        "sse.event_schema": lambda: _schema(parsed, validators, events),
        "sse.event_order": lambda: _order(parsed),
        "sse.sequence_numbers": lambda: _sequence(parsed),
        "sse.terminator": lambda: _terminator(record, parsed),
        "sse.text_deltas": lambda: _text_deltas(parsed),
        "sse.tool_arguments": lambda: _tool_arguments(parsed),
        "sse.streamed": lambda: streamed_verdict(record),
    }
    findings = apply_rules(op_id, rules)
    for f in findings:
        tolerated = TOLERATED.get(f.check_id)
        if tolerated and f.outcome is Outcome.FAIL and tolerated in f.message:
            f.severity = Severity.DEVIATES.value
    return findings


def final_response(record: StreamRecord) -> dict[str, Any] | None:
    """The Response the terminal event carries (the stream assembled into one), or None."""
    for e in reversed(_parse(record)):
        response = e.get("response")
        if e.name in TERMINAL and isinstance(response, dict):
            return response
    return None


def _parse(record: StreamRecord) -> list[_Event]:
    out = []
    for pos, a in enumerate(record.arrivals):
        if a.data == DONE:
            continue
        try:
            value = bounded.loads(a.data)
        except ValueError:
            value = None
        data = value if isinstance(value, dict) else None
        kind = data.get("type") if data is not None else None
        out.append(_Event(pos, kind if isinstance(kind, str) else a.event, data))
    return out


def _framing(record: StreamRecord) -> Verdict:
    if not record.arrivals:
        return Outcome.FAIL, f"no event arrived ({record.ended}: {record.detail})".strip()
    for i, a in enumerate(record.arrivals):
        if a.data == DONE:
            continue  # sse.terminator reports it
        if a.event in ("", "message"):
            message = (
                f"event {i} {UNNAMED}; OpenAI names every event (the SDK reads the data's type)"
            )
            return Outcome.FAIL, message
        try:
            value = bounded.loads(a.data)
        except ValueError:
            return Outcome.FAIL, f"event {i} ({a.event}) data is not JSON: {a.data[:80]!r}"
        if not isinstance(value, dict):
            return Outcome.FAIL, f"event {i} ({a.event}) data is not a JSON object"
        if value.get("type") != a.event:
            kind = value.get("type")
            return Outcome.FAIL, f"event {i} is named {a.event!r} but its data has type {kind!r}"
    return Outcome.PASS, f"{len(record.arrivals)} named events, each JSON typed as its name"


def _schema(parsed: list[_Event], v: Validators, events: Mapping[str, Any]) -> Verdict:
    # Events of a kind the contract names (kinds OpenAI adds later are not judged here).
    framed = [e for e in parsed if e.name in events]
    if not framed:
        return Outcome.INCONCLUSIVE, "no well-framed event to validate"
    for e in framed:
        problems = v.problems(events[e.name], e.data, limit=1)
        if problems:
            return Outcome.FAIL, f"event {e.pos} ({e.name}) breaks its schema at {problems[0]}"
    return Outcome.PASS, f"{len(framed)} events match the schemas for their names"


def _order(parsed: list[_Event]) -> Verdict:
    seq = [e for e in parsed if e.data is not None]
    if not seq or seq[0].name != CREATED:
        first = seq[0].name if seq else "nothing"
        return Outcome.FAIL, f"the stream opens with {first}, not response.created"
    items: dict[int, str] = {}  # output_index -> "open" | "done"
    parts: set[tuple[int, str, int]] = set()
    next_index = 0
    for e in seq[1:]:
        if e.name == "error":
            return Outcome.FAIL, f"the relay sent an error event: {e.get('message') or e.data}"
        if e.name in TERMINAL:
            still = sorted(i for i, state in items.items() if state == "open")
            if still:
                return Outcome.FAIL, f"{e.name} at event {e.pos} while item(s) {still} are open"
            return Outcome.PASS, f"created first; {next_index} item(s) added, streamed and done"
        if e.name in LIFECYCLE_OPENING:
            if items:
                return Outcome.FAIL, f"{e.name} at event {e.pos} after output items began"
            continue
        index = e.whole("output_index")
        if index is None:
            continue  # an event OpenAI added later, or a broken one (event_schema's)
        if e.name == "response.output_item.added":
            if index != next_index:
                return Outcome.FAIL, f"item {index} added at event {e.pos}; {next_index} was due"
            items[index] = "open"
            next_index += 1
            continue
        if items.get(index) != "open":
            state = "already done" if index in items else "never added"
            return Outcome.FAIL, f"{e.name} at event {e.pos} for item {index}, which is {state}"
        if e.name == "response.output_item.done":
            left = sorted(p for p in parts if p[0] == index)
            if left:
                return Outcome.FAIL, f"item {index} done at event {e.pos} with part(s) open"
            items[index] = "done"
            continue
        role = PART_EVENTS.get(e.name)
        if role is None:
            continue
        kind = "summary" if "reasoning_summary" in e.name else "content"
        k = e.whole(f"{kind}_index")
        part = (index, kind, k if k is not None else -1)
        if role == "open":
            if part in parts:
                return Outcome.FAIL, f"{e.name} at event {e.pos} reopens an open {kind} part"
            parts.add(part)
        elif part not in parts:
            return Outcome.FAIL, f"{e.name} at event {e.pos} for a {kind} part never added"
        elif role == "close":
            parts.discard(part)
    # no terminal event arrived: that is sse.terminator's finding
    return Outcome.PASS, f"created first; {next_index} item(s) in order (no terminal event)"


def _sequence(parsed: list[_Event]) -> Verdict:
    last: int | None = None
    for e in parsed:
        if e.data is None:
            continue
        number = e.whole("sequence_number")
        if number is None:
            return Outcome.FAIL, f"event {e.pos} ({e.name}) has no integer sequence_number"
        if last is not None and number <= last:
            return (
                Outcome.FAIL,
                f"event {e.pos} ({e.name}) has sequence_number {number} after {last}",
            )
        last = number
    if last is None:
        return Outcome.INCONCLUSIVE, "no JSON event to read a sequence_number from"
    return Outcome.PASS, "every event's sequence_number is above the one before"


def _terminator(record: StreamRecord, parsed: list[_Event]) -> Verdict:
    ends = [e for e in parsed if e.name in TERMINAL]
    if not ends:
        names = " or ".join(TERMINAL)
        return Outcome.FAIL, f"no terminal event ({names}; stream ended: {record.ended})"
    if len(ends) > 1:
        return Outcome.FAIL, f"{len(ends)} terminal events ({ends[0].name}...); exactly one"
    after = len(record.arrivals) - 1 - ends[0].pos
    if after == 1 and record.arrivals[-1].data == DONE:
        return Outcome.FAIL, f"a {TRAILING_DONE} {ends[0].name}; OpenAI sends none"
    if after:
        return Outcome.FAIL, f"{after} event(s) after {ends[0].name}"
    if not record.complete:
        return Outcome.FAIL, f"{ends[0].name} came but the stream did not close ({record.ended})"
    return Outcome.PASS, f"exactly one terminal event ({ends[0].name}), last, then it closed"


def _final_item(parsed: list[_Event], index: int) -> dict[str, Any] | None:
    """Output item ``index`` of the terminal event's response, if there is one."""
    for e in parsed:
        response = e.get("response")
        if e.name in TERMINAL and isinstance(response, dict):
            output = response.get("output")
            if isinstance(output, list) and 0 <= index < len(output):
                item = output[index]
                return item if isinstance(item, dict) else None
            return None
    return None


def _text_deltas(parsed: list[_Event]) -> Verdict:
    joined: dict[tuple[int, int], str] = {}
    done: dict[tuple[int, int], str] = {}
    for e in parsed:
        key = (e.whole("output_index"), e.whole("content_index"))
        if key[0] is None or key[1] is None:
            continue
        at = (key[0], key[1])
        if e.name == "response.output_text.delta" and isinstance(e.get("delta"), str):
            joined[at] = joined.get(at, "") + e.get("delta")
        elif e.name == "response.output_text.done" and isinstance(e.get("text"), str):
            done[at] = e.get("text")
    if not joined and not done:
        return Outcome.SKIP, "not applicable: no output_text streamed"
    terminal = any(e.name in TERMINAL for e in parsed)
    for at in sorted(set(joined) | set(done)):
        text = joined.get(at, "")
        if at not in done:
            if terminal:
                return Outcome.FAIL, f"item {at[0]} part {at[1]}: deltas but no output_text.done"
            return Outcome.INCONCLUSIVE, f"item {at[0]} part {at[1]}: the stream ended mid-text"
        if text != done[at]:
            return Outcome.FAIL, (
                f"item {at[0]} part {at[1]}: deltas join into {text[:40]!r}, "
                f"output_text.done says {done[at][:40]!r}"
            )
        item = _final_item(parsed, at[0])
        if item is not None:
            content = item.get("content")
            part = content[at[1]] if isinstance(content, list) and at[1] < len(content) else None
            final = part.get("text") if isinstance(part, dict) else None
            if final != text:
                return Outcome.FAIL, (
                    f"item {at[0]} part {at[1]}: the final response says {str(final)[:40]!r}, "
                    f"the deltas {text[:40]!r}"
                )
    where = "output_text.done and the final response" if terminal else "output_text.done"
    return Outcome.PASS, f"{len(done)} text part(s) whose deltas join into {where}"


def _tool_arguments(parsed: list[_Event]) -> Verdict:
    joined: dict[int, str] = {}
    done: dict[int, str] = {}
    for e in parsed:
        index = e.whole("output_index")
        if index is None:
            continue
        if e.name == "response.function_call_arguments.delta" and isinstance(e.get("delta"), str):
            joined[index] = joined.get(index, "") + e.get("delta")
        elif e.name == "response.function_call_arguments.done" and isinstance(
            e.get("arguments"), str
        ):
            done[index] = e.get("arguments")
    if not joined and not done:
        return Outcome.SKIP, "not applicable: no function call streamed"
    for index in sorted(set(joined) | set(done)):
        if index not in done:
            return Outcome.INCONCLUSIVE, f"item {index}: no function_call_arguments.done came"
        if index in joined and joined[index] != done[index]:
            return Outcome.FAIL, f"item {index}: the deltas do not join into the done arguments"
        try:
            bounded.loads(done[index])
        except ValueError:
            return Outcome.FAIL, f"item {index}: the arguments are not JSON: {done[index][:60]!r}"
        item = _final_item(parsed, index)
        if item is not None and item.get("arguments") != done[index]:
            return Outcome.FAIL, f"item {index}: the final response has other arguments"
    return Outcome.PASS, f"{len(done)} function call(s) whose deltas join into JSON arguments"
