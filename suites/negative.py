"""Bad requests a relay must refuse: malformed JSON, a missing or mistyped field, no or a wrong key.

Each gets its own check id judged on the status alone (a 4xx, never a 2xx or a 5xx; 401 or 403
for the key checks), and every error body is judged once more, apart, by ``errors.envelope``:
a relay with a broken envelope fails that check and no other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contracts.model import Operation
from suites import judges
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.probes import Probe, example_probes
from suites.transport import RUN_KEY, WRONG_KEY, Exchange, KeyChoice

CHECKS = (
    "negative.malformed_json",
    "negative.missing_required",
    "negative.wrong_type",
    "auth.no_key",
    "auth.wrong_key",
    "errors.envelope",
)
PLACEHOLDER_ID = "relaykit-probe-0000"
"""Fills a path parameter no example gives: auth is judged before the id is looked up."""
MALFORMED = b'{"model": "relaykit", "messages": [{"role": "user", '


def check_negative(ctx: CheckContext, op: Operation) -> list[Finding]:
    """Send the bad requests for one operation and judge each answer."""
    base = example_probes(op, ctx.profile)[0]
    for name in base.missing_params:
        base.path_values[name] = PLACEHOLDER_ID
    findings: list[Finding] = []
    errors: list[tuple[str, Exchange]] = []
    for check_id, probe, key, note in _cases(ctx, op, base):
        if probe is None:
            findings.append(ctx.finding(op.id, check_id, Outcome.SKIP, note, "negative"))
            continue
        request = probe.build(ctx.transport, key=key)
        if check_id == "negative.malformed_json":
            request = ctx.transport.build(
                op.method,
                probe.path,
                schemes=op.auth,
                content=MALFORMED,
                headers={"content-type": "application/json"},
            )
        exchange = ctx.transport.send(request, body_note=note if probe.body is None else "")
        findings.append(_judge_status(ctx, op, check_id, exchange, note))
        if exchange.status is not None and 400 <= exchange.status < 600:
            errors.append((check_id, exchange))
    findings.extend(_judge_envelopes(ctx, op, errors))
    return findings


Case = tuple[str, Probe | None, KeyChoice, str]


def _cases(ctx: CheckContext, op: Operation, base: Probe) -> Iterator[Case]:
    """(check id, probe or None to skip, key override, note) for each bad request."""
    kind = op.request.content_type
    has_body = kind in ("application/json", "multipart/form-data") and isinstance(base.body, dict)
    if kind == "application/json":
        yield "negative.malformed_json", base, RUN_KEY, "a body cut off mid-JSON"
    else:
        yield "negative.malformed_json", None, RUN_KEY, f"not applicable: the body is {kind}"
    schema = _resolved_request_schema(ctx, op, base)
    required = [r for r in (schema or {}).get("required", []) if has_body and r in base.body]
    if required:
        body = {k: v for k, v in base.body.items() if k != required[0]}
        yield "negative.missing_required", _with(base, body), RUN_KEY, f"without {required[0]!r}"
    else:
        why = "the request has no body" if not has_body else "the request requires no field"
        yield "negative.missing_required", None, RUN_KEY, f"not applicable: {why}"
    wrong = _wrong_type(schema, base.body, kind) if has_body else None
    if wrong:
        name, value = wrong
        yield (
            "negative.wrong_type",
            _with(base, {**base.body, name: value}),
            RUN_KEY,
            (f"{name!r} sent as {type(value).__name__}"),
        )
    else:
        yield "negative.wrong_type", None, RUN_KEY, "not applicable: no typed field to break"
    if "none" in op.auth:
        yield "auth.no_key", None, RUN_KEY, "not applicable: the operation needs no key"
        yield "auth.wrong_key", None, RUN_KEY, "not applicable: the operation needs no key"
    else:
        yield "auth.no_key", base, None, "no key presented"
        yield "auth.wrong_key", base, WRONG_KEY, "a key the relay cannot know"


def _with(base: Probe, body: Any) -> Probe:
    return Probe(base.op, "negative", body, dict(base.path_values), dict(base.query))


def _resolved_request_schema(
    ctx: CheckContext, op: Operation, base: Probe
) -> dict[str, Any] | None:
    """The request schema's top-level object (one $ref followed; first matching anyOf branch)."""
    schema = op.request.schema
    if not isinstance(schema, dict):
        return None
    schema = ctx.validators.resolve(schema)
    if not isinstance(schema, dict):
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [ctx.validators.resolve(b) for b in schema[key] if isinstance(b, dict)]
            body = base.body if isinstance(base.body, dict) else {}
            fitting = [b for b in branches if set(b.get("required", [])) <= set(body)]
            chosen = fitting[0] if fitting else (branches[0] if branches else None)
            return chosen if isinstance(chosen, dict) else None
    return schema


def _wrong_type(
    schema: dict[str, Any] | None, body: dict[str, Any], kind: str
) -> tuple[str, Any] | None:
    """A (field, value) whose value breaks the field's declared type; required fields first."""
    if not schema:
        return None
    props = schema.get("properties", {})
    order = [*schema.get("required", []), *props]
    for name in dict.fromkeys(order):
        declared = props.get(name, {})
        if not isinstance(declared, dict):
            continue
        types = declared.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if kind == "multipart/form-data":
            if set(types) <= {"integer", "number"} and types:
                return name, "not-a-number"
            continue
        if not types or "null" in types:
            continue
        if types == ["string"] and name in body:
            return name, {"relaykit": "an object where a string belongs"}
        if set(types) <= {"integer", "number"}:
            return name, "not-a-number"
        if types in (["array"], ["object"]) and name in body:
            return name, 12345
        if types == ["boolean"]:
            return name, "not-a-boolean"
    return None


def _judge_status(
    ctx: CheckContext, op: Operation, check_id: str, exchange: Exchange, note: str
) -> Finding:
    status = exchange.status
    if status is None:
        return ctx.finding(
            op.id, check_id, Outcome.ERROR, f"{note}: {exchange.error}", "negative", exchange
        )
    auth = check_id.startswith("auth.")
    wanted = "401 or 403" if auth else "a 4xx"
    if status == 429:
        message = f"{note}: rate limited (429) after {exchange.retries} retries; cannot judge"
        return ctx.finding(op.id, check_id, Outcome.INCONCLUSIVE, message, "negative", exchange)
    ok = status in (401, 403) if auth else 400 <= status < 500 and status not in (401, 403)
    outcome = Outcome.PASS if ok else Outcome.FAIL
    message = f"{note}: answered {status}" + ("" if ok else f", expected {wanted}")
    return ctx.finding(op.id, check_id, outcome, message, "negative", exchange)


def _judge_envelopes(
    ctx: CheckContext, op: Operation, errors: list[tuple[str, Exchange]]
) -> list[Finding]:
    if not errors:
        message = "no error response to judge"
        return [ctx.finding(op.id, "errors.envelope", Outcome.SKIP, message, "negative")]
    findings = []
    for check_id, exchange in errors:
        f = judges.error_envelope(
            op, ctx.contracts.envelopes, ctx.validators, exchange.status or 0, exchange.json()
        )
        source = f"negative:{check_id}"
        findings.append(ctx.finding(op.id, f.check_id, f.outcome, f.message, source, exchange))
    return findings
