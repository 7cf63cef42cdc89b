"""Judge one answer against the operation's contract: status, content type, body schema,
the stream grammar while it arrives, and the request-response invariants.

Every request a run sends for an operation's own path (documented examples and property-based
variations alike) is judged here, so a rule fails under one check id whichever request broke it.
"""

from __future__ import annotations

import time
from typing import Any

from contracts.model import Operation
from suites.anthropic_stream import check_anthropic_stream
from suites.chat_stream import check_chat_stream
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.invariants import (
    Observed,
    assemble_chat_stream,
    assemble_completion_stream,
    check_invariants,
)
from suites.probes import Probe
from suites.streams import StreamRecord, json_objects, read_sse
from suites.transport import Exchange

UNSUPPORTED = frozenset({404, 405, 501})
TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
"""Audio ``response_format`` values that turn a JSON answer into plain text."""
NOT_FOR_COMPLETIONS = frozenset({"sse.role_first", "sse.tool_arguments"})
"""Chat stream rules that legacy text_completion streams have nothing to say about."""


class Unsupported(Exception):
    """The relay does not serve the operation (404/405/501 to a documented request)."""

    def __init__(self, status: int, exchange: Exchange) -> None:
        super().__init__(f"unsupported: the relay answered {status} to a documented request")
        self.exchange = exchange


def send_and_judge(ctx: CheckContext, probe: Probe, *, first: bool = False) -> list[Finding]:
    """Send the probe and judge the answer; ``first`` turns a 404/501 into Unsupported."""
    op = probe.op
    tokens, paid = cost_of(op)
    request = probe.build(ctx.transport)
    if probe.streamed:
        with ctx.transport.stream(request, tokens=tokens, paid_calls=paid) as (ex, resp, sent):
            if resp is None or ex.status is None or ex.status >= 300:
                if resp is not None:
                    resp.read()
                    ex.content = resp.content
                    ex.elapsed = _since(sent)
                raise_if_unsupported(ex, first)
                return judge_status(ctx, probe, ex)
            record = read_sse(resp, ctx.stream_limits, sent)
            ex.elapsed = record.arrivals[-1].at if record.arrivals else record.headers_at
        return judge_stream(ctx, probe, ex, record)
    exchange = ctx.transport.send(request, tokens=tokens, paid_calls=paid)
    raise_if_unsupported(exchange, first)
    findings = judge_status(ctx, probe, exchange)
    if exchange.status == op.response.status:
        findings += judge_body(ctx, probe, exchange)
    _settle(ctx, exchange.json(), tokens)
    return findings


def _since(sent: float) -> float:
    return time.monotonic() - sent


def raise_if_unsupported(exchange: Exchange, first: bool) -> None:
    """Raise Unsupported for a 404/405/501 to the first documented request of an operation."""
    if first and exchange.status in UNSUPPORTED:
        raise Unsupported(exchange.status, exchange)


def cost_of(op: Operation) -> tuple[int, int]:
    """(estimated tokens, paid media calls) of one call."""
    if not op.cost.paid:
        return 0, 0
    if op.cost.unit == "tokens":
        return int(op.cost.estimate), 0
    return 0, int(op.cost.unit in ("image", "audio", "video", "music"))


def _settle(ctx: CheckContext, body: Any, estimated: int) -> None:
    usage = body.get("usage") if isinstance(body, dict) else None
    if estimated and isinstance(usage, dict):
        total = usage.get("total_tokens")
        if not isinstance(total, int):
            total = (usage.get("input_tokens") or 0) + (usage.get("output_tokens") or 0)
        if isinstance(total, int) and total > 0:
            ctx.transport.spend.settle_tokens(estimated, total)


def judge_status(ctx: CheckContext, probe: Probe, exchange: Exchange) -> list[Finding]:
    """``response.status``: the documented success status (transport errors are ERROR)."""
    op = probe.op
    if exchange.status is None:
        message = f"no answer: {exchange.error}"
        return [
            ctx.finding(op.id, "response.status", Outcome.ERROR, message, probe.source, exchange)
        ]
    wanted = op.response.status
    if exchange.status == 429:
        outcome, message = (
            Outcome.INCONCLUSIVE,
            f"rate limited (429) after {exchange.retries} retries",
        )
    elif exchange.status == wanted:
        outcome, message = Outcome.PASS, f"answered {wanted} as documented"
    else:
        outcome, message = Outcome.FAIL, f"answered {exchange.status}, the contract says {wanted}"
        detail = _error_text(exchange)
        if detail:
            message += f": {detail}"
    return [ctx.finding(op.id, "response.status", outcome, message, probe.source, exchange)]


def _error_text(exchange: Exchange) -> str:
    body = exchange.json()
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return str(err["message"])[:160]
        for key in ("message", "description", "msg", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])[:160]
    return exchange.content[:120].decode("utf-8", errors="replace")


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


def judge_body(ctx: CheckContext, probe: Probe, exchange: Exchange) -> list[Finding]:
    """``response.content_type``, ``response.schema`` and the invariants of a 2xx answer."""
    op, src = probe.op, probe.source
    expected, got = expected_content_type(probe), exchange.content_type
    findings = []
    if type_matches(expected, got):
        findings.append(ctx.finding(op.id, "response.content_type", Outcome.PASS, got, src))
    else:
        message = f"content type {got or '(none)'}, the contract says {expected}"
        findings.append(
            ctx.finding(op.id, "response.content_type", Outcome.FAIL, message, src, exchange)
        )
    body = exchange.json() if got == "application/json" or expected == "application/json" else None
    findings.append(_judge_schema(ctx, probe, exchange, body, expected))
    observed = Observed(
        request=probe.json_body,
        body=body,
        content_type=got,
        content=exchange.content,
        fetch=fetcher(ctx),
        models=tuple(ctx.profile.models.values()),
    )
    findings += _with_source(check_invariants(op, observed, ctx.validators), src, ctx, exchange)
    return findings


def _judge_schema(
    ctx: CheckContext, probe: Probe, exchange: Exchange, body: Any, expected: str
) -> Finding:
    op, src = probe.op, probe.source
    schema = op.response.schema
    if expected != "application/json" or schema is None:
        why = "the contract gives no body schema" if schema is None else f"a {expected} body"
        return ctx.finding(op.id, "response.schema", Outcome.SKIP, f"not applicable: {why}", src)
    if body is None:
        message = "the body is not JSON"
        return ctx.finding(op.id, "response.schema", Outcome.FAIL, message, src, exchange)
    problems = ctx.validators.problems(schema, body, limit=1)
    if problems:
        message = f"the body breaks the schema at {problems[0]}"
        return ctx.finding(op.id, "response.schema", Outcome.FAIL, message, src, exchange)
    return ctx.finding(op.id, "response.schema", Outcome.PASS, "the body matches", src, exchange)


def judge_stream(
    ctx: CheckContext, probe: Probe, exchange: Exchange, record: StreamRecord
) -> list[Finding]:
    """A streamed answer: status, content type, the grammar rules and the assembled invariants."""
    op, src = probe.op, probe.source
    assert op.stream is not None
    findings = judge_status(ctx, probe, exchange)
    got = exchange.content_type
    if got == "text/event-stream":
        findings.append(ctx.finding(op.id, "response.content_type", Outcome.PASS, got, src))
    else:
        message = f"content type {got or '(none)'}, a stream is text/event-stream"
        findings.append(
            ctx.finding(op.id, "response.content_type", Outcome.FAIL, message, src, exchange)
        )
    if op.stream.framing == "sse-named":
        rules = check_anthropic_stream(
            op.id, record, probe.json_body, ctx.validators, op.stream.events
        )
        assembled: Any = None
    else:
        rules = check_chat_stream(
            op.id, record, probe.json_body, ctx.validators, op.stream.event_schema
        )
        chunks = json_objects(record)
        legacy = any(c.get("object") == "text_completion" for c in chunks)
        if legacy:
            rules = [f for f in rules if f.check_id not in NOT_FOR_COMPLETIONS]
        assembled = assemble_completion_stream(chunks) if legacy else assemble_chat_stream(chunks)
    evidence = [
        ctx.finding(f.operation_id, f.check_id, f.outcome, f.message, src, exchange, stream=record)
        for f in rules
    ]
    findings += evidence
    if assembled is not None:
        observed = Observed(
            request=probe.json_body,
            body=assembled,
            content_type="application/json",
            content=b"",
            fetch=fetcher(ctx),
        )
        invariants = check_invariants(op, observed, ctx.validators)
        findings += _with_source(invariants, src, ctx, exchange)
    return findings


def _with_source(
    findings: list[Finding], source: str, ctx: CheckContext, exchange: Exchange
) -> list[Finding]:
    return [
        ctx.finding(f.operation_id, f.check_id, f.outcome, f.message, source, exchange)
        for f in findings
    ]


def fetcher(ctx: CheckContext) -> Any:
    """A GET for result URLs through the run's transport (budgeted, rate-limited), bounded."""

    def fetch(url: str) -> tuple[int | None, str, bytes]:
        request = ctx.transport.build("GET", url, schemes=("none",))
        exchange = ctx.transport.send(request)
        return exchange.status, exchange.content_type, exchange.content

    return fetch
