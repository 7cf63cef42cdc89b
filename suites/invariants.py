"""Request-response invariants (the names contracts list under ``invariants``): which rule
judges which name.

A contract lists invariant names per operation. The response ones are judged here on one
answer (a JSON body, or a stream assembled back into one); the task ones belong to the task
checker and two stream ones to the stream grammar checkers. ``unknown_invariants`` finds names
no registry knows, so a typo in a contract cannot silently check nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from suites import invariant_gemini as g
from suites import invariant_media as m
from suites import invariant_responses as resp
from suites import invariant_rules as r
from suites import invariant_tools as t
from suites.findings import Finding, Outcome

Fetch = Callable[[str], tuple[int | None, str, bytes]]
"""GET an absolute URL: (status, or None on a transport error; content type; body bytes)."""


@dataclass(frozen=True)
class Observed:
    """One request and the answer it got, as the response invariants read them."""

    request: dict[str, Any]
    """The JSON (or form) body sent; {} when none."""
    body: Any
    """The parsed JSON response (a stream assembled into one), None when not JSON."""
    content_type: str
    """The response media type, lower-case, without parameters."""
    content: bytes
    """The raw response body (audio, text transcripts...)."""
    fetch: Fetch | None = None
    """Downloads result URLs; None when fetching is not allowed (URL checks are inconclusive)."""
    models: tuple[str, ...] = ()
    """Model ids the relay should list (the profile's models), for model_listed; may be ()."""


Rule = Callable[[Observed, Validators], tuple[Outcome, str]]
"""One invariant: the outcome and a one-line message a person understands."""

STREAM_INVARIANTS: Mapping[str, str] = MappingProxyType(
    {"usage_chunk_iff_requested": "sse.usage_chunk", "anthropic_event_order": "sse.event_order"}
)
"""Invariants the stream grammar checkers judge, with the check id that does."""

TASK_INVARIANTS: frozenset[str] = frozenset(
    {
        "task_id_returned",
        "task_queryable_at_once",
        "task_states_legal",
        "task_reaches_terminal",
        "task_result_urls_reachable",
        "task_progress_monotonic",
        "list_contains_submitted",
    }
)
"""Invariants the task lifecycle checker judges."""

RESPONSE_INVARIANTS: Mapping[str, Rule] = MappingProxyType(
    {
        "choices_len_n": r.choices_len_n,
        "usage_total": r.usage_total,
        "max_tokens_respected": r.max_tokens_respected,
        "finish_length_when_cut": r.finish_length_when_cut,
        "stop_absent": r.stop_absent,
        "tool_calls_present": t.tool_calls_present,
        "tool_args_match_schema": t.tool_args_match_schema,
        "json_content_parses": t.json_content_parses,
        "json_schema_content_valid": t.json_schema_content_valid,
        "reasoning_tokens_reported": r.reasoning_tokens_reported,
        "audio_present": r.audio_present,
        "image_count_matches_n": m.image_count_matches_n,
        "image_size_matches": m.image_size_matches,
        "embedding_count_matches_input": m.embedding_count_matches_input,
        "embedding_dimensions": m.embedding_dimensions,
        "model_listed": m.model_listed,
        "speech_format_matches": m.speech_format_matches,
        "transcript_format_matches": m.transcript_format_matches,
        **g.RULES,
        "responses_usage_total": resp.responses_usage_total,
        "max_output_tokens_respected": resp.max_output_tokens_respected,
        "incomplete_when_cut": resp.incomplete_when_cut,
        "responses_json_schema_valid": resp.responses_json_schema_valid,
        "responses_tool_args_match_schema": resp.responses_tool_args_match_schema,
    }
)
"""Invariants judged on one answer, by name."""


def check_invariants(op: Operation, observed: Observed, validators: Validators) -> list[Finding]:
    """One finding per response invariant the operation lists (check id ``invariant.<name>``).

    ``source`` is left empty for the caller to set. A rule that raises is a harness bug: it
    becomes an ERROR finding that names the exception, never a crash of the run.
    """
    findings = []
    for name in op.invariants:
        rule = RESPONSE_INVARIANTS.get(name)
        if rule is None:
            continue
        try:
            outcome, message = rule(observed, validators)
        except Exception as exc:  # a broken rule must not take the run down
            outcome = Outcome.ERROR
            message = f"the check broke: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        findings.append(Finding(op.id, f"invariant.{name}", outcome, message))
    return findings


def unknown_invariants(contracts: ContractSet) -> list[tuple[str, str]]:
    """(operation id, name) for every invariant name that no registry knows."""
    known = {*RESPONSE_INVARIANTS, *TASK_INVARIANTS, *STREAM_INVARIANTS}
    return [(op.id, name) for op in contracts for name in op.invariants if name not in known]


# --- streams assembled back into one answer ------------------------------------------------


def _head(chunks: list[dict[str, Any]], obj: str) -> dict[str, Any]:
    head: dict[str, Any] = {"object": obj}
    for key in ("id", "created", "model", "system_fingerprint"):
        value = next((c[key] for c in chunks if c.get(key) is not None), None)
        if value is not None:
            head[key] = value
    return head


def _usage(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    # with include_usage every chunk may carry "usage": null; the usage chunk is the one set
    found = [c["usage"] for c in chunks if isinstance(c.get("usage"), dict)]
    return {"usage": found[-1]} if found else {}


def _choice_parts(chunks: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict):
                index = choice.get("index", 0)
                out.setdefault(index if isinstance(index, int) else 0, []).append(choice)
    return out


def _joined(parts: list[Any]) -> str | None:
    texts = [p for p in parts if isinstance(p, str)]
    return "".join(texts) if texts else None


def _tool_calls(deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for tc in delta.get("tool_calls") or []:
            if not isinstance(tc, dict):
                continue
            index = tc.get("index", 0)
            call = calls.setdefault(
                index if isinstance(index, int) else 0,
                {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
            )
            call["id"] = call["id"] or tc.get("id") or ""
            call["type"] = tc.get("type") or call["type"]
            fn = tc.get("function")
            fn = fn if isinstance(fn, dict) else {}
            name = fn.get("name")
            # OpenAI sends the name once; some relays repeat it on every fragment
            if isinstance(name, str) and name != call["function"]["name"]:
                call["function"]["name"] += name
            if isinstance(fn.get("arguments"), str):
                call["function"]["arguments"] += fn["arguments"]
    return [calls[k] for k in sorted(calls)]


def _finish(parts: list[dict[str, Any]]) -> Any:
    reasons = [p["finish_reason"] for p in parts if p.get("finish_reason") is not None]
    return reasons[-1] if reasons else None


def assemble_chat_stream(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat.completion-shaped body from chat.completion.chunk dicts.

    Per choice index: content and reasoning_content joined, tool calls joined by index
    (arguments concatenated), the finish_reason; ``usage`` only when a usage chunk came.
    """
    choices = []
    for index, parts in sorted(_choice_parts(chunks).items()):
        deltas = [p["delta"] for p in parts if isinstance(p.get("delta"), dict)]
        message: dict[str, Any] = {
            "role": next((d["role"] for d in deltas if d.get("role")), "assistant"),
            "content": _joined([d.get("content") for d in deltas]),
        }
        for key in ("reasoning_content", "refusal"):
            joined = _joined([d.get(key) for d in deltas])
            if joined is not None:
                message[key] = joined
        calls = _tool_calls(deltas)
        if calls:
            message["tool_calls"] = calls
        choices.append({"index": index, "message": message, "finish_reason": _finish(parts)})
    return {**_head(chunks, "chat.completion"), "choices": choices, **_usage(chunks)}


def assemble_completion_stream(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """A text_completion body from streamed text_completion chunks (text joined per index)."""
    choices = [
        {
            "index": index,
            "text": _joined([p.get("text") for p in parts]) or "",
            "logprobs": None,
            "finish_reason": _finish(parts),
        }
        for index, parts in sorted(_choice_parts(chunks).items())
    ]
    return {**_head(chunks, "text_completion"), "choices": choices, **_usage(chunks)}
