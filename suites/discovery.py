"""Learn what a relay offers before spending anything: its model list and its routes.

A relay re-sells part of the catalogue. Checking what it does not offer fills a report with
noise (every check of a missing route fails its own way), so a run first asks, for free:

- **models**: ``GET /v1/models`` with the run's key; the ids it lists (and, where a relay says
  so, what each model is for: LiteLLM's ``mode``).
- **routes**: one request per documented method and path, without a key and with an empty body,
  that a relay's router answers before doing any paid work. To tell the router's "no such
  route" from a handler's answer, the same request is first sent to a path no relay has (the
  *control*): a route that answers exactly like the control (same status, same body once the
  path is taken out) when the control looks like "not found" (a 4xx, or a web page), or
  answers 405/501, or 404 without any path parameter to be unknown, is not offered. A relay
  that authenticates before routing (the control answers 401/403 without a key) is asked
  again with the key. A route with a parameter that answers 404 unlike the
  control is offered: that is the documented answer to an unknown task id.

Nothing here raises for what a relay answers; a transport error leaves a route unknown, and
an unknown route is checked as if offered (its checks then say what happened).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from contracts.model import ContractSet, Operation
from contracts.paths import template
from suites.probes import default_path_values
from suites.transport import RUN_KEY, BudgetExceeded, Exchange, KeyChoice, Transport

MODELS_OPERATION = "openai.models.list"
"""The operation whose answer lists the relay's models."""
PLACEHOLDER = "relaykit-discovery-0"
"""Fills path parameters no example gives (an id no relay has issued)."""
NOT_A_ROUTE = frozenset({405, 501})
"""Statuses that say the method or path is not served, whatever the control answered."""
AUTH_FIRST = frozenset({401, 403})
MODES = {
    "chat": "chat",
    "embedding": "embeddings",
    "embeddings": "embeddings",
    "image_generation": "images",
    "audio_speech": "tts",
    "audio_transcription": "stt",
    "completion": "completions",
}
"""What a model list's ``mode`` (LiteLLM) says a model is for, as the profile's capabilities."""
_DIGITS = re.compile(r"\d+")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b", re.I)
FINGERPRINT_CHARS = 600


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    """Whether one documented method and path is served; ``offered`` None: could not tell."""

    method: str
    path: str
    offered: bool | None
    status: int | None
    why: str

    def to_json(self) -> dict[str, Any]:
        """As the run record keeps it."""
        return {"offered": self.offered, "status": self.status, "why": self.why}


@dataclass(slots=True)
class Discovery:
    """What the relay offers, as far as free requests tell."""

    models: tuple[str, ...] | None = None
    """The ids the relay lists; None when it gave no usable list."""
    modes: dict[str, str] = field(default_factory=dict)
    """Model id -> capability, where the list says what a model is for."""
    models_note: str = ""
    routes: dict[tuple[str, str], RouteVerdict] = field(default_factory=dict)
    control: str = ""
    """How the relay answers a path it does not have (what "not offered" looks like)."""
    requests: int = 0

    def route(self, op: Operation) -> RouteVerdict | None:
        """The verdict on the operation's method and path (None: not probed)."""
        return self.routes.get((op.method, op.path))

    def route_not_offered(self, op: Operation) -> str:
        """Why the relay does not offer ``op``'s route, or "" when it does (or cannot tell)."""
        verdict = self.route(op)
        if verdict is None or verdict.offered is not False:
            return ""
        return f"route not offered: {op.method} {op.path} {verdict.why}"

    def lists(self, model: str) -> bool:
        """True when the relay lists ``model`` (always True when it lists nothing usable)."""
        return self.models is None or model in self.models

    def to_json(self) -> dict[str, Any]:
        """The record's ``discovery`` block."""
        return {
            "models": list(self.models) if self.models is not None else None,
            "modes": self.modes,
            "models_note": self.models_note,
            "control": self.control,
            "requests": self.requests,
            "routes": {f"{m} {p}": v.to_json() for (m, p), v in self.routes.items()},
            "offered": sum(1 for v in self.routes.values() if v.offered is not False),
            "probed": len(self.routes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Discovery:
        """Back from ``to_json`` (the pytest plugin hands its controller's discovery to the
        xdist workers this way)."""
        routes = {}
        for where, v in data.get("routes", {}).items():
            method, _, path = where.partition(" ")
            routes[(method, path)] = RouteVerdict(method, path, v["offered"], v["status"], v["why"])
        models = data.get("models")
        return cls(
            models=tuple(models) if models is not None else None,
            modes=dict(data.get("modes", {})),
            models_note=data.get("models_note", ""),
            routes=routes,
            control=data.get("control", ""),
            requests=int(data.get("requests", 0)),
        )


def discover(
    contracts: ContractSet, operations: Iterable[Operation], transport: Transport
) -> Discovery:
    """Ask the relay, for free, which models and which of ``operations``' routes it offers."""
    found = Discovery()
    ops = list(operations)
    _models(contracts, transport, found)
    routes: dict[tuple[str, str], Operation] = {}
    for op in ops:
        routes.setdefault((op.method, op.path), op)
    if not routes:
        return found
    methods = sorted({m for m, _ in routes})
    key: KeyChoice = None
    controls = {m: _control(transport, m, key, found) for m in methods}
    if any(c.status in AUTH_FIRST for c, _ in controls.values()) and transport.key:
        key = RUN_KEY  # the run's key: this relay authenticates before it routes
        controls = {m: _control(transport, m, key, found) for m in methods}
    silent = [c for c, _ in controls.values() if c.status is None]
    if len(silent) == len(controls):  # nothing to learn from a relay that does not answer
        found.control = f"the relay did not answer: {silent[0].error}"
        return found
    refused = [c for c, _ in controls.values() if c.status in AUTH_FIRST]
    if refused:
        found.control = f"a path no relay has answered {refused[0].status}: the key is refused"
        return found
    first = next(iter(controls.values()))[0]
    found.control = f"a path no relay has answered {first.status or first.error}"
    if key is RUN_KEY:
        found.control += " (asked with the key: the relay authenticates before routing)"
    workers = max(1, min(8, transport.limits.concurrency * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        verdicts = pool.map(lambda op: _probe(transport, op, key, controls, found), routes.values())
        for verdict in verdicts:
            found.routes[(verdict.method, verdict.path)] = verdict
    return found


def _send(
    transport: Transport,
    method: str,
    path: str,
    key: KeyChoice,
    found: Discovery,
    schemes: tuple[str, ...] = ("bearer",),
) -> Exchange:
    """An empty-bodied request, with the run's key (``RUN_KEY``) or none (None)."""
    body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    request = transport.build(method, path, schemes=schemes, key=key, **body)
    found.requests += 1
    return transport.send(request)


Control = tuple[Exchange, str]
"""The answer to a path no relay has, and that path."""


def _control(transport: Transport, method: str, key: KeyChoice, found: Discovery) -> Control:
    path = f"/v1/relaykit-no-such-route-{secrets.token_hex(4)}"
    return _send(transport, method, path, key, found), path


def fingerprint(exchange: Exchange, path: str) -> tuple[int | None, str, str]:
    """How an answer looks with the path it answered taken out (ids and numbers folded)."""
    text = exchange.content[:FINGERPRINT_CHARS].decode("utf-8", errors="replace")
    for variant in {path, path.lstrip("/"), path.rstrip("/")}:
        if variant:
            text = text.replace(variant, "{path}")
    text = _DIGITS.sub("0", _HEX.sub("x", text))
    return exchange.status, exchange.content_type, text


def _probe(
    transport: Transport,
    op: Operation,
    key: KeyChoice,
    controls: dict[str, Control],
    found: Discovery,
) -> RouteVerdict:
    values = default_path_values(op)
    shape = template(op.path)
    path = shape.fill({name: values.get(name, PLACEHOLDER) for name in shape.names})
    try:
        schemes = op.auth if key is RUN_KEY else ("none",)
        exchange = _send(transport, op.method, path, key, found, schemes)
    except BudgetExceeded as exc:
        return RouteVerdict(op.method, op.path, None, None, f"not probed: {exc}")
    status = exchange.status
    if status is None:
        return RouteVerdict(op.method, op.path, None, None, f"no answer: {exchange.error}")
    control, control_path = controls[op.method]
    relay_path = transport.path_map.to_relay(path)
    if status in NOT_A_ROUTE:
        return RouteVerdict(op.method, op.path, False, status, f"answered {status}")
    if _tells_not_found(control) and fingerprint(exchange, relay_path) == fingerprint(
        control, control_path
    ):
        why = f"answered {status} like a path no relay has"
        return RouteVerdict(op.method, op.path, False, status, why)
    if status == 404 and "{" not in op.path:
        return RouteVerdict(op.method, op.path, False, status, "answered 404")
    return RouteVerdict(op.method, op.path, True, status, f"answered {status}")


def _tells_not_found(control: Exchange) -> bool:
    """True when the control's answer looks like a router's "no such route": a 4xx, or a
    web page (a relay's console served for any unknown path). A relay that answers everything
    with a 5xx, a redirect or the same JSON is broken or odd, not offering nothing: its routes
    are checked, and the checks say what is wrong."""
    status = control.status
    if status is None:
        return False
    return 400 <= status < 500 or (200 <= status < 300 and control.content_type == "text/html")


def _models(contracts: ContractSet, transport: Transport, found: Discovery) -> None:
    op = next((o for o in contracts if o.id == MODELS_OPERATION), None)
    if op is None:
        found.models_note = "no model-list operation in the contracts"
        return
    try:
        request = transport.build(op.method, op.path, schemes=op.auth)
        found.requests += 1
        exchange = transport.send(request)
    except BudgetExceeded as exc:
        found.models_note = f"not asked: {exc}"
        return
    where = f"{op.method} {op.path}"
    if exchange.status != 200:
        found.models_note = f"{where} answered {exchange.status or exchange.error}"
        return
    ids, modes = listed_models(exchange.json())
    if not ids:
        found.models_note = f"{where} listed no model ids"
        return
    found.models, found.modes = ids, modes
    found.models_note = f"{where} listed {len(ids)} models"


def listed_models(body: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    """Model ids (and capabilities, where given) from a model list: OpenAI's ``data[].id``,
    Gemini's ``models[].name`` or a bare list of ids."""
    items: Any = body
    if isinstance(body, dict):
        items = body.get("data", body.get("models"))
    if not isinstance(items, list):
        return (), {}
    ids: list[str] = []
    modes: dict[str, str] = {}
    for item in items:
        name = item if isinstance(item, str) else None
        if isinstance(item, dict):
            raw = item.get("id", item.get("name"))
            name = raw.removeprefix("models/") if isinstance(raw, str) else None
            mode = MODES.get(str(item.get("mode", "")))
            if name and mode:
                modes[name] = mode
        if name and name not in ids:
            ids.append(name)
    return tuple(ids), modes
