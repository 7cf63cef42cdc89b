"""Schemathesis over the exported OpenAPI, folded into the run's findings.

Schemathesis generates requests from the OpenAPI export of the contracts (``contracts.openapi``)
and judges the answers with its own conformance checks (no server error, a documented status,
content type and body schema). Its requests are not narrowed like ours, so on a paid endpoint
they could cost anything: the plan gives this check to free operations only. Requests still go
through the run's transport (budget, rate limit, redaction) and present the run's key, so what
is judged is conformance, not whether a garbage key is refused (the negative checks do that).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.model import ContractSet, Operation
from contracts.openapi import to_openapi
from contracts.wire.auth import KEY_HEADERS
from suites import bounded
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.properties import GENERATION_LOCK, draw
from suites.transport import Exchange

CHECK_ID = "schemathesis"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_SCHEMAS: dict[int, Any] = {}
_LOCK = threading.Lock()


def applies(op: Operation) -> bool:
    """Schemathesis runs on free operations only (its requests are not cheap by design)."""
    return not op.cost.paid


def _schema(contracts: ContractSet) -> Any:
    """The schemathesis schema of the contracts' OpenAPI export, built once per contract set."""
    with _LOCK:
        key = id(contracts)
        if key not in _SCHEMAS:
            _SCHEMAS[key] = schemathesis.openapi.from_dict(to_openapi(contracts))
        return _SCHEMAS[key]


def check_schemathesis(ctx: CheckContext, op: Operation, count: int) -> list[Finding]:
    """``count`` schemathesis-generated requests for ``op``, each answer judged by its checks."""
    with GENERATION_LOCK:
        operation = _schema(ctx.contracts)[op.path][op.method.upper()]
    cases = draw(operation.as_strategy(), count, ctx.seed)
    if not cases:
        return [ctx.finding(op.id, CHECK_ID, Outcome.SKIP, "schemathesis generated no request")]
    return [_one(ctx, op, case, f"schemathesis#{i}") for i, case in enumerate(cases)]


def _one(ctx: CheckContext, op: Operation, case: Any, source: str) -> Finding:
    kwargs = case.as_transport_kwargs(base_url="")
    sent = kwargs.get("headers") or {}
    headers = {k: v for k, v in sent.items() if k.lower() not in KEY_HEADERS}
    headers.pop("X-Schemathesis-TestCaseId", None)
    extra = {k: kwargs[k] for k in ("json", "data", "content", "params") if kwargs.get(k)}
    if "files" in kwargs:
        extra["files"] = kwargs["files"]
    request = ctx.transport.build(
        op.method, case.formatted_path, schemes=op.auth, headers=headers, **extra
    )
    exchange = ctx.transport.send(request)
    if exchange.status is None:
        message = f"no answer: {exchange.error}"
        return ctx.finding(op.id, CHECK_ID, Outcome.ERROR, message, source, exchange)
    refused = bounded.refusal(exchange.content)  # schemathesis would parse it unbounded
    if refused:
        message = f"answered {exchange.status}: the body was not parsed: {refused}"
        return ctx.finding(op.id, CHECK_ID, Outcome.FAIL, message, source, exchange)
    try:
        case.validate_response(_as_httpx(request, exchange), checks=CHECKS)
    except (Failure, FailureGroup) as exc:
        failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
        titles = "; ".join(dict.fromkeys(_describe(f) for f in failures))
        message = f"answered {exchange.status}: {titles}"
        return ctx.finding(op.id, CHECK_ID, Outcome.FAIL, message, source, exchange)
    message = f"answered {exchange.status}; schemathesis found nothing wrong"
    return ctx.finding(op.id, CHECK_ID, Outcome.PASS, message, source, exchange)


def _describe(failure: Any) -> str:
    title = str(getattr(failure, "title", "") or type(failure).__name__)
    detail = str(getattr(failure, "message", "") or "").strip().splitlines()
    return f"{title} ({detail[0][:160]})" if detail else title


def _as_httpx(request: httpx.Request, exchange: Exchange) -> httpx.Response:
    # the content is decoded already: a Content-Encoding left on would be undone twice
    decoded = {k: v for k, v in exchange.headers.items() if k.lower() != "content-encoding"}
    response = httpx.Response(
        exchange.status or 0,
        headers=decoded,
        content=exchange.content,
        request=request,
    )
    response.elapsed = timedelta(seconds=exchange.elapsed)
    return response
