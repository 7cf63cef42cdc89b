"""The verdicts on one answer, whoever sent the request: a run (suites/responses.py), the
negative checks (suites/negative.py) or live traffic through the proxy (suites/live.py).

Each judge returns findings without evidence; the caller attaches what it has (a run's
exchange, the proxy's redacted request and response).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from contracts.model import Envelope, Operation
from contracts.validation import Validators
from suites import bounded
from suites.anthropic_stream import check_anthropic_stream
from suites.chat_stream import check_chat_stream
from suites.findings import Finding, Outcome
from suites.gemini_stream import assemble as assemble_gemini_stream
from suites.gemini_stream import check_gemini_array, check_gemini_stream
from suites.invariants import (
    Observed,
    assemble_chat_stream,
    assemble_completion_stream,
    check_invariants,
)
from suites.probes import Probe
from suites.responses_stream import check_responses_stream, final_response
from suites.severity import Severity
from suites.streams import StreamRecord, json_objects

Fetch = Callable[[str], tuple[int | None, str, bytes]]
TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
"""Audio ``response_format`` values that turn a JSON answer into plain text."""
NOT_FOR_COMPLETIONS = frozenset({"sse.role_first", "sse.tool_arguments"})
"""Chat stream rules that legacy text_completion streams have nothing to say about."""


def expected_content_type(probe: Probe) -> str:
    """The media type a conforming answer to this probe has."""
    op = probe.op
    if probe.streamed:
        return "text/event-stream"
    declared = op.response.content_type
    fmt = probe.json_body.get("response_format")
    if declared == "application/json" and isinstance(fmt, str) and fmt in TEXT_FORMATS:
        return "text/plain"
    return declared


def type_matches(expected: str, got: str) -> bool:
    """True when the answer's media type satisfies the contract's (any audio/* for audio...)."""
    if expected == got:
        return True
    major = expected.split("/")[0]
    # media answers: the exact format is the invariant's business (speech_format_matches)
    return major in ("audio", "image", "video") and got.startswith(major + "/")


def content_type(op: Operation, expected: str, got: str) -> Finding:
    """``response.content_type``."""
    if type_matches(expected, got):
        return Finding(op.id, "response.content_type", Outcome.PASS, got)
    message = f"content type {got or '(none)'}, the contract says {expected}"
    return Finding(op.id, "response.content_type", Outcome.FAIL, message)


def body_schema(
    op: Operation, validators: Validators, expected: str, body: Any, why: str = ""
) -> Finding:
    """``response.schema`` of a success body (not applicable to a non-JSON answer); ``why``
    says why a body is None, as a sentence (suites/bounded.py ``why_not_json``)."""
    schema = op.response.schema
    if expected != "application/json" or schema is None:
        why = "the contract gives no body schema" if schema is None else f"a {expected} body"
        return Finding(op.id, "response.schema", Outcome.SKIP, f"not applicable: {why}")
    if body is None:
        message = why or "the body is not JSON"
        return Finding(op.id, "response.schema", Outcome.FAIL, message)
    problems = validators.problems(schema, body, limit=1)
    if problems:
        message = f"the body breaks the schema at {problems[0]}"
        if validators.is_valid(schema, without_nulls(body)):  # SDK models read null as absent
            found = Finding(op.id, "response.schema", Outcome.FAIL, message + NULL_NOTE)
            found.severity = Severity.DEVIATES.value
            return found
        return Finding(op.id, "response.schema", Outcome.FAIL, message)
    return Finding(op.id, "response.schema", Outcome.PASS, "the body matches")


NULL_NOTE = " (an explicit null where the field is optional: the SDKs read it as absent)"


def without_nulls(value: Any) -> Any:
    """``value`` with every object member whose value is null left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def error_envelope(
    op: Operation, envelopes: Mapping[str, Envelope], validators: Validators, status: int, body: Any
) -> Finding:
    """``errors.envelope``: an error body in the envelope the operation's provider uses."""
    envelope = envelopes.get(op.errors.envelope)
    if envelope is None:
        message = f"the contract names no known envelope ({op.errors.envelope!r})"
        return Finding(op.id, "errors.envelope", Outcome.ERROR, message)
    if body is None:
        return Finding(op.id, "errors.envelope", Outcome.FAIL, f"the {status} body is not JSON")
    problems = validators.problems(envelope.schema, body, limit=1)
    if problems:
        message = f"the {status} body breaks the {envelope.name} envelope at {problems[0]}"
        return Finding(op.id, "errors.envelope", Outcome.FAIL, message)
    message = f"the {status} body is a {envelope.name} error envelope"
    return Finding(op.id, "errors.envelope", Outcome.PASS, message)


def success(
    probe: Probe,
    validators: Validators,
    got: str,
    content: bytes,
    body: Any,
    fetch: Fetch | None,
    models: tuple[str, ...] = (),
) -> list[Finding]:
    """A 2xx answer that is not a stream: content type, body schema, invariants."""
    op = probe.op
    expected = expected_content_type(probe)
    refused = ""
    if body is None and (got == "application/json" or expected == "application/json"):
        body = bounded.json_or_none(content)
        refused = bounded.why_not_json(content) if body is None and content else ""
    observed = Observed(probe.json_body, body, got, content, fetch, models)
    grammar: list[Finding] = []
    if op.stream is not None and op.stream.grammar == "gemini" and expected == got:
        # streamGenerateContent without alt=sse: the chunks as one JSON array
        grammar = check_gemini_array(op.id, body, validators, op.stream.event_schema)
    return [
        content_type(op, expected, got),
        body_schema(op, validators, expected, body, refused),
        *grammar,
        *check_invariants(op, observed, validators),
    ]


def stream(
    probe: Probe, validators: Validators, got: str, record: StreamRecord, fetch: Fetch | None
) -> list[Finding]:
    """A streamed answer: content type, the grammar rules, then the invariants on the
    assembled stream (OpenAI chat framing, or the Response a Responses stream ends with;
    Anthropic's usage rules live in its grammar)."""
    op = probe.op
    assert op.stream is not None
    findings = [content_type(op, "text/event-stream", got)]
    if op.stream.grammar == "responses":
        rules = check_responses_stream(op.id, record, probe.json_body, validators, op.stream.events)
        observed = Observed(probe.json_body, final_response(record), "application/json", b"", fetch)
        return findings + rules + check_invariants(op, observed, validators)
    if op.stream.grammar == "anthropic":
        events = op.stream.events
        return findings + check_anthropic_stream(op.id, record, probe.json_body, validators, events)
    if op.stream.grammar == "gemini":
        rules = check_gemini_stream(op.id, record, validators, op.stream.event_schema)
        assembled = assemble_gemini_stream(json_objects(record))
        observed = Observed(probe.json_body, assembled, "text/event-stream", b"", fetch)
        return findings + rules + check_invariants(op, observed, validators)
    rules = check_chat_stream(op.id, record, probe.json_body, validators, op.stream.event_schema)
    chunks = json_objects(record)
    legacy = any(c.get("object") == "text_completion" for c in chunks)
    if legacy:
        rules = [f for f in rules if f.check_id not in NOT_FOR_COMPLETIONS]
    assembled = assemble_completion_stream(chunks) if legacy else assemble_chat_stream(chunks)
    observed = Observed(probe.json_body, assembled, "application/json", b"", fetch)
    return findings + rules + check_invariants(op, observed, validators)
