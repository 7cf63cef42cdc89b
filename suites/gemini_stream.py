"""Gemini's streamGenerateContent grammar, checked on what arrived: SSE (``?alt=sse``) or the
JSON array of the same chunks.

One check id per rule (``CHECKS``), so a relay that breaks one rule fails that check only:
every SSE event is data-only and its data a JSON object (``gemini.framing``; the array form:
every element an object), each chunk a GenerateContentResponse (``gemini.event_schema``),
each candidate index ending with exactly one finishReason on its last chunk
(``gemini.finish_reason``), the last chunk carrying usageMetadata whose counts never went down
(``gemini.usage``; whether they add up is ``invariant.gemini_usage_total``'s business, on the
assembled stream), one responseId and modelVersion throughout (``gemini.consistent_ids``), and
whether the SSE form was really streamed (``sse.streamed``). There is no terminator: Gemini
ends a stream by closing it, so a ``[DONE]`` is a chunk that is not JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.validation import Validators
from suites import bounded
from suites.findings import Finding, Outcome, apply_rules
from suites.streams import StreamRecord, json_objects, streamed_verdict

CHECKS = (
    "gemini.framing",
    "gemini.event_schema",
    "gemini.finish_reason",
    "gemini.usage",
    "gemini.consistent_ids",
    "sse.streamed",
)
COUNTS = ("promptTokenCount", "candidatesTokenCount", "totalTokenCount")

Rule = Callable[[], tuple[Outcome, str]]


def check_gemini_stream(
    op_id: str, record: StreamRecord, validators: Validators, event_schema: Any
) -> list[Finding]:
    """Every rule for one ``?alt=sse`` stream, judged on the events as they arrived."""
    chunks = json_objects(record)
    rules: dict[str, Rule] = {
        "gemini.framing": lambda: _framing(record),
        **_chunk_rules(chunks, validators, event_schema),
        "sse.streamed": lambda: streamed_verdict(record),
    }
    return apply_rules(op_id, rules)


def check_gemini_array(
    op_id: str, body: Any, validators: Validators, event_schema: Any
) -> list[Finding]:
    """The same rules for the JSON-array form (streamGenerateContent without ``alt=sse``);
    the array's own schema is ``response.schema``'s."""
    if not isinstance(body, list):
        message = "the answer is not a JSON array of chunks"
        return [Finding(op_id, "gemini.framing", Outcome.FAIL, message)]
    chunks = [c for c in body if isinstance(c, dict)]
    rules: dict[str, Rule] = {
        "gemini.framing": lambda: _array_framing(body),
        **_chunk_rules(chunks, validators, event_schema),
    }
    return apply_rules(op_id, rules)


def _chunk_rules(chunks: list[dict[str, Any]], v: Validators, schema: Any) -> dict[str, Rule]:
    return {
        "gemini.event_schema": lambda: _schema(chunks, v, schema),
        "gemini.finish_reason": lambda: _finish(chunks),
        "gemini.usage": lambda: _usage(chunks),
        "gemini.consistent_ids": lambda: _consistent(chunks),
    }


def _framing(record: StreamRecord) -> tuple[Outcome, str]:
    if not record.arrivals:
        return Outcome.FAIL, f"no event arrived ({record.ended}: {record.detail})".strip()
    for i, a in enumerate(record.arrivals):
        if a.event not in ("", "message"):
            return Outcome.FAIL, f"event {i} is named {a.event!r}; Gemini streams are data-only"
        try:
            value = bounded.loads(a.data)
        except ValueError:
            return Outcome.FAIL, f"chunk {i} is not JSON: {a.data[:80]!r}"
        if not isinstance(value, dict):
            return Outcome.FAIL, f"chunk {i} is JSON but not an object: {a.data[:80]!r}"
    return Outcome.PASS, f"{len(record.arrivals)} data-only events, each a JSON object"


def _array_framing(body: list[Any]) -> tuple[Outcome, str]:
    if not body:
        return Outcome.FAIL, "the array holds no chunk"
    others = [i for i, c in enumerate(body) if not isinstance(c, dict)]
    if others:
        return Outcome.FAIL, f"element {others[0]} of the array is not a JSON object"
    return Outcome.PASS, f"a JSON array of {len(body)} chunk objects"


def _schema(chunks: list[dict[str, Any]], v: Validators, schema: Any) -> tuple[Outcome, str]:
    for i, chunk in enumerate(chunks):
        problems = v.problems(schema, chunk, limit=1)
        if problems:
            return Outcome.FAIL, f"chunk {i} breaks GenerateContentResponse at {problems[0]}"
    return Outcome.PASS, f"{len(chunks)} chunks match GenerateContentResponse"


def _by_candidate(chunks: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        for cand in chunk.get("candidates") or []:
            if isinstance(cand, dict):
                index = cand.get("index", 0)
                out.setdefault(index if isinstance(index, int) else 0, []).append(cand)
    return out


def _finish(chunks: list[dict[str, Any]]) -> tuple[Outcome, str]:
    by_index = _by_candidate(chunks)
    if not by_index:
        blocked = any(isinstance(c.get("promptFeedback"), dict) for c in chunks)
        if blocked:
            return Outcome.PASS, "the prompt was blocked (promptFeedback, no candidates)"
        return Outcome.FAIL, "no chunk carries a candidate"
    for index, parts in sorted(by_index.items()):
        reasons = [p["finishReason"] for p in parts if p.get("finishReason")]
        if len(reasons) != 1:
            return Outcome.FAIL, f"candidate {index} has {len(reasons)} finishReason values"
        if not parts[-1].get("finishReason"):
            return Outcome.FAIL, f"candidate {index}: chunks continue after its finishReason"
    return Outcome.PASS, f"{len(by_index)} candidate(s), each ending with one finishReason"


def _usage(chunks: list[dict[str, Any]]) -> tuple[Outcome, str]:
    if not chunks:
        return Outcome.FAIL, "no chunk arrived"
    if not isinstance(chunks[-1].get("usageMetadata"), dict):
        return Outcome.FAIL, "the last chunk carries no usageMetadata: clients bill by it"
    seen: dict[str, int] = {}
    for i, chunk in enumerate(chunks):
        usage = chunk.get("usageMetadata")
        if not isinstance(usage, dict):
            continue
        for name in COUNTS:
            value = usage.get(name)
            if isinstance(value, int) and value < seen.get(name, 0):
                return Outcome.FAIL, f"chunk {i}: {name} went down to {value} from {seen[name]}"
            if isinstance(value, int):
                seen[name] = value
    return Outcome.PASS, "the last chunk carries usageMetadata; no count went down"


def _consistent(chunks: list[dict[str, Any]]) -> tuple[Outcome, str]:
    keys = {(c.get("responseId"), c.get("modelVersion")) for c in chunks}
    if len(keys) > 1:
        return (
            Outcome.FAIL,
            f"responseId/modelVersion differ between chunks: {sorted(map(str, keys))[:3]}",
        )
    return Outcome.PASS, "the same responseId and modelVersion on every chunk"


def assemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """One GenerateContentResponse from its chunks: per candidate index, the text parts joined
    (thought text apart), the other parts (function calls) kept in order, the last
    finishReason; the last usageMetadata, responseId and modelVersion."""
    candidates = []
    for index, parts in sorted(_by_candidate(chunks).items()):
        texts: list[str] = []
        thoughts: list[str] = []
        others: list[dict[str, Any]] = []
        for cand in parts:
            content = cand.get("content")
            for p in content.get("parts") or [] if isinstance(content, dict) else []:
                if not isinstance(p, dict):
                    continue
                if isinstance(p.get("text"), str):
                    (thoughts if p.get("thought") else texts).append(p["text"])
                else:
                    others.append(p)
        merged = [{"text": "".join(thoughts), "thought": True}] if thoughts else []
        merged += [{"text": "".join(texts)}] if texts else []
        cand_out: dict[str, Any] = {
            "content": {"role": "model", "parts": merged + others},
            "index": index,
        }
        reasons = [p["finishReason"] for p in parts if p.get("finishReason")]
        if reasons:
            cand_out["finishReason"] = reasons[-1]
        candidates.append(cand_out)
    out: dict[str, Any] = {"candidates": candidates}
    for key in ("usageMetadata", "responseId", "modelVersion", "promptFeedback"):
        value = next((c[key] for c in reversed(chunks) if c.get(key) is not None), None)
        if value is not None:
            out[key] = value
    return out
