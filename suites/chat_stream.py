"""The OpenAI chat-completion stream grammar, checked on a StreamRecord.

One check id per rule of the grammar (the ``CHECKS`` below), so a relay that breaks one rule
fails that check and no other (ARCHITECTURE.md, on check ids): framing, terminator, event
schema, consistent ids, role first, one finish_reason per choice, the usage chunk iff asked for,
tool-call fragments that join into JSON, and whether the stream was really streamed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.validation import Validators
from contracts.wire.sse import DONE
from suites import bounded
from suites.findings import Finding, Outcome, apply_rules
from suites.streams import StreamRecord, json_objects, streamed_verdict

CHECKS = (
    "sse.framing",
    "sse.terminator",
    "sse.event_schema",
    "sse.consistent_ids",
    "sse.role_first",
    "sse.finish_reason",
    "sse.usage_chunk",
    "sse.tool_arguments",
    "sse.streamed",
)


def check_chat_stream(
    op_id: str,
    record: StreamRecord,
    request: dict[str, Any],
    validators: Validators,
    event_schema: Any,
) -> list[Finding]:
    """Every stream check for one streamed chat request."""
    chunks = json_objects(record)
    n = request.get("n") or 1
    want_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    rules: dict[str, Callable[[], tuple[Outcome, str]]] = {
        "sse.framing": lambda: _framing(record),
        "sse.terminator": lambda: _terminator(record),
        "sse.event_schema": lambda: _schema(chunks, validators, event_schema),
        "sse.consistent_ids": lambda: _consistent(chunks),
        "sse.role_first": lambda: _role_first(chunks),
        "sse.finish_reason": lambda: _finish(chunks, n),
        "sse.usage_chunk": lambda: _usage(chunks, want_usage),
        "sse.tool_arguments": lambda: _tool_arguments(chunks, request),
        "sse.streamed": lambda: streamed_verdict(record),
    }
    return apply_rules(op_id, rules)


def _framing(record: StreamRecord) -> tuple[Outcome, str]:
    if not record.arrivals:
        return Outcome.FAIL, f"no event arrived ({record.ended}: {record.detail})".strip()
    for i, a in enumerate(record.arrivals):
        if a.event not in ("", "message"):
            return Outcome.FAIL, f"event {i} is named {a.event!r}; OpenAI streams are data-only"
        if a.data != DONE:
            try:
                bounded.loads(a.data)
            except ValueError:
                return Outcome.FAIL, f"event {i} data is not JSON: {a.data[:80]!r}"
    return Outcome.PASS, f"{len(record.arrivals)} data-only events, each JSON or [DONE]"


def _terminator(record: StreamRecord) -> tuple[Outcome, str]:
    done = [i for i, a in enumerate(record.arrivals) if a.data == DONE]
    if not done:
        return Outcome.FAIL, f"no data: [DONE] (stream ended: {record.ended})"
    if len(done) > 1:
        return Outcome.FAIL, f"{len(done)} [DONE] events; exactly one is allowed"
    if done[0] != len(record.arrivals) - 1:
        return Outcome.FAIL, f"{len(record.arrivals) - 1 - done[0]} events after [DONE]"
    if not record.complete:
        return Outcome.FAIL, f"[DONE] came but the stream did not close ({record.ended})"
    return Outcome.PASS, "exactly one [DONE], last, then the stream closed"


def _schema(chunks: list[dict[str, Any]], v: Validators, schema: Any) -> tuple[Outcome, str]:
    for i, chunk in enumerate(chunks):
        problems = v.problems(schema, chunk, limit=1)
        if problems:
            return Outcome.FAIL, f"chunk {i} breaks chat.completion.chunk at {problems[0]}"
    return Outcome.PASS, f"{len(chunks)} chunks match chat.completion.chunk"


def _consistent(chunks: list[dict[str, Any]]) -> tuple[Outcome, str]:
    keys = {(c.get("id"), c.get("created"), c.get("model")) for c in chunks}
    if len(keys) > 1:
        return Outcome.FAIL, f"id/created/model differ between chunks: {sorted(map(str, keys))[:3]}"
    return Outcome.PASS, "same id, created and model on every chunk"


def _by_choice(chunks: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict):
                out.setdefault(int(choice.get("index", 0)), []).append(choice)
    return out


def _role_first(chunks: list[dict[str, Any]]) -> tuple[Outcome, str]:
    for index, choices in _by_choice(chunks).items():
        if (choices[0].get("delta") or {}).get("role") != "assistant":
            return Outcome.FAIL, f"choice {index}: the first delta has no role: assistant"
    return Outcome.PASS, "each choice's first delta carries role: assistant"


def _finish(chunks: list[dict[str, Any]], n: int) -> tuple[Outcome, str]:
    by_choice = _by_choice(chunks)
    if sorted(by_choice) != list(range(n)):
        return Outcome.FAIL, f"choices {sorted(by_choice)} streamed; n={n} asks for 0..{n - 1}"
    for index, choices in by_choice.items():
        reasons = [c["finish_reason"] for c in choices if c.get("finish_reason")]
        if len(reasons) != 1:
            return Outcome.FAIL, f"choice {index} has {len(reasons)} non-null finish_reason"
        if choices[-1].get("finish_reason") is None:
            return Outcome.FAIL, f"choice {index}: deltas continue after its finish_reason"
    return Outcome.PASS, f"{n} choice(s), each ending with exactly one finish_reason"


def _usage(chunks: list[dict[str, Any]], wanted: bool) -> tuple[Outcome, str]:
    carrying = [i for i, c in enumerate(chunks) if c.get("usage")]
    if not wanted:
        if carrying:
            return Outcome.FAIL, "a usage chunk came though include_usage was not asked for"
        return Outcome.PASS, "no usage chunk, as none was asked for"
    if carrying != [len(chunks) - 1]:
        return Outcome.FAIL, "include_usage asks for one usage chunk, last before [DONE]"
    if chunks[-1].get("choices"):
        return Outcome.FAIL, "the usage chunk must have choices: []"
    # whether the figures add up is invariant.usage_total's business, on the assembled stream
    return Outcome.PASS, "one usage chunk with choices: [], last before [DONE]"


def _tool_arguments(chunks: list[dict[str, Any]], request: dict[str, Any]) -> tuple[Outcome, str]:
    calls: dict[tuple[int, int], str] = {}
    for index, choices in _by_choice(chunks).items():
        for choice in choices:
            for tc in (choice.get("delta") or {}).get("tool_calls") or []:
                key = (index, int(tc.get("index", 0)))
                fragment = (tc.get("function") or {}).get("arguments") or ""
                calls[key] = calls.get(key, "") + fragment
    if not calls:
        if request.get("tools") and request.get("tool_choice") not in (None, "none", "auto"):
            return Outcome.FAIL, "tool_choice requires a tool call and none was streamed"
        return Outcome.PASS, "no tool calls streamed"
    for (index, k), text in calls.items():
        try:
            bounded.loads(text)
        except ValueError:
            return Outcome.FAIL, f"choice {index} tool call {k}: fragments join into invalid JSON"
    return Outcome.PASS, f"{len(calls)} tool call(s) whose fragments join into JSON"
