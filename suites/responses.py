"""Send a run's request and judge the answer: status here, the rest by suites/judges.py
(content type, body schema, the stream grammar read as it arrives, the invariants), with the
run's evidence attached.

Every request a run sends for an operation's own path (documented examples and property-based
variations alike) is judged here, so a rule fails under one check id whichever request broke it.
"""

from __future__ import annotations

from typing import Any

from contracts.model import Operation
from suites import judges
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.model_choice import refusal
from suites.probes import Probe
from suites.severity import Severity
from suites.streams import StreamRecord, read_sse
from suites.transport import Exchange

UNSUPPORTED = frozenset({404, 405, 501})


class Unsupported(Exception):
    """The relay does not offer the operation: a 404/405/501 to a documented request (its
    route), or an answer saying the model does not exist; the message says which."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange


def send_and_judge(ctx: CheckContext, probe: Probe, *, first: bool = False) -> list[Finding]:
    """Send the probe and judge the answer; ``first`` turns a 404/501 into Unsupported."""
    op = probe.op
    tokens, paid = cost_of(op)
    request = probe.build(ctx.transport)
    if probe.streamed:
        seconds = ctx.stream_limits.seconds
        opened = ctx.transport.stream(
            request, tokens=tokens, paid_calls=paid, seconds=seconds,
            name=f"stream_seconds ({seconds:g} s)",
        )  # fmt: skip
        with opened as (ex, resp, sent):
            if resp is None or ex.status is None or ex.status >= 300:
                if resp is not None:
                    ctx.transport.finish(ex, resp, sent)
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


def raise_if_unsupported(exchange: Exchange, first: bool) -> None:
    """Raise Unsupported when the first documented request of an operation is answered 404,
    405 or 501 (route not offered) or with a relay's "no such model" (model not offered)."""
    if not first:
        return
    said = refusal(exchange)
    if said:
        raise Unsupported(
            f"model not offered: the relay answered {exchange.status}: {said}", exchange
        )
    if exchange.status in UNSUPPORTED:
        message = f"route not offered: the relay answered {exchange.status} to a documented request"
        raise Unsupported(message, exchange)


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
    said = refusal(exchange) if exchange.status != wanted else ""
    if said:  # the model of this request is not offered: nothing the relay did wrong
        message = f"model not offered: the relay answered {exchange.status}: {said}"
        return [
            ctx.finding(op.id, "response.status", Outcome.SKIP, message, probe.source, exchange)
        ]
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
    finding = ctx.finding(op.id, "response.status", outcome, message, probe.source, exchange)
    if outcome is Outcome.FAIL and exchange.status // 100 == wanted // 100 == 2:
        finding.severity = Severity.DEVIATES  # a 201 for a 200: the SDKs read it as a success
    return [finding]


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


def judge_body(ctx: CheckContext, probe: Probe, exchange: Exchange) -> list[Finding]:
    """``response.content_type``, ``response.schema`` and the invariants of a 2xx answer."""
    models = tuple(ctx.profile.models.values())
    found = judges.success(
        probe, ctx.validators, exchange.content_type, exchange.content, None, fetcher(ctx), models
    )
    return [_evidence(ctx, f, probe.source, exchange) for f in found]


def judge_stream(
    ctx: CheckContext, probe: Probe, exchange: Exchange, record: StreamRecord
) -> list[Finding]:
    """A streamed answer: status, content type, the grammar rules and the assembled invariants."""
    found = judges.stream(probe, ctx.validators, exchange.content_type, record, fetcher(ctx))
    return judge_status(ctx, probe, exchange) + [
        _evidence(ctx, f, probe.source, exchange, record if f.check_id.startswith("sse.") else None)
        for f in found
    ]


def _evidence(
    ctx: CheckContext,
    f: Finding,
    source: str,
    exchange: Exchange,
    record: StreamRecord | None = None,
) -> Finding:
    found = ctx.finding(f.operation_id, f.check_id, f.outcome, f.message, source, exchange, record)
    found.severity = f.severity  # a judge's own severity survives the evidence
    return found


def fetcher(ctx: CheckContext) -> Any:
    """A GET for result URLs through the run's transport (budgeted, rate-limited), bounded."""

    def fetch(url: str) -> tuple[int | None, str, bytes]:
        request = ctx.transport.build("GET", url, schemes=("none",))
        exchange = ctx.transport.send(request)
        return exchange.status, exchange.content_type, exchange.content

    return fetch
