"""Error responses in the provider's own envelope, rendered from contracts/envelopes.yaml."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from contracts.model import Envelope


class MockError(Exception):
    """A request the mock answers with an error in the envelope: status, message, param."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        """A symbolic error code (``model_not_found``); None: the envelope's default."""


def error_body(
    envelope: Envelope,
    status: int,
    message: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> Any:
    """The envelope's body for this status, with message, param and code filled in."""
    defaults = envelope.statuses.get(status, {})
    numeric = defaults.get("code")
    values = {
        "$message": message or defaults.get("message") or f"Error {status}.",
        "$type": defaults.get("type", "relaykit_simulated_error"),
        "$param": param,
        # a symbolic code (invalid_api_key) only where the provider's codes are strings
        "$code": code if code is not None and not isinstance(numeric, int) else numeric,
        "$status": status,
    }
    return _fill(envelope.body, values)


def _fill(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, str) and node in values:
        return values[node]
    return node


def error_response(
    envelope: Envelope,
    status: int,
    message: str | None = None,
    param: str | None = None,
    code: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON error response; 429/503 carry ``Retry-After`` as the provider sends it."""
    payload = body if body is not None else error_body(envelope, status, message, param, code)
    out = dict(headers or {})
    retry = envelope.statuses.get(status, {}).get("retry_after")
    if retry is not None:
        out.setdefault("Retry-After", str(retry))
    return Response(
        orjson.dumps(payload), status_code=status, media_type="application/json", headers=out
    )
