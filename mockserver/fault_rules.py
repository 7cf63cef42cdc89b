"""Which fault a request gets: the ``Prefer: fault=...`` header, the YAML rules file and their
checks (rules may match by operation id: mockserver/resolution.py resolves it).

Both speak the same parameter names (mockserver/faults.py documents them). A rules file is
validated with a JSON schema and refused with the file and the field at fault; a bad header
parameter becomes a 400 naming it.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.model import ContractSet
from mockserver.prefer import prefer_values
from mockserver.resolution import Resolution

ERROR_KINDS = ("429", "500", "502", "503", "524")
KINDS = ("latency", "pace", *ERROR_KINDS, "cut", "malformed", "empty", "reset", "drip", "none")
MAX_LATENCY_MS = 600_000
MAX_PACE_MS = 60_000

# name -> (JSON schema, kinds it applies to; None: every kind)
PARAMS: dict[str, tuple[dict[str, Any], tuple[str, ...] | None]] = {
    "latency-ms": ({"type": "number", "minimum": 0, "maximum": MAX_LATENCY_MS}, None),
    "jitter-ms": ({"type": "number", "minimum": 0, "maximum": MAX_PACE_MS}, None),
    "ttfe-ms": ({"type": "number", "minimum": 0, "maximum": MAX_PACE_MS}, None),
    "interval-ms": ({"type": "number", "minimum": 0, "maximum": MAX_PACE_MS}, None),
    "retry-after": ({"type": "integer", "minimum": 0, "maximum": 86_400}, ERROR_KINDS),
    "after": ({"type": "integer", "minimum": 0, "maximum": 1_000_000}, ("cut",)),
    "at": ({"type": "integer", "minimum": 1, "maximum": 1_000_000}, ("malformed",)),
    "drip-bytes": ({"type": "integer", "minimum": 1, "maximum": 65_536}, ("drip",)),
    "drip-ms": ({"type": "number", "minimum": 0, "maximum": MAX_PACE_MS}, ("drip",)),
}

_NAMES: dict[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
}
RULES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rules"],
    "properties": {
        "seed": {"type": "integer"},
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["fault"],
                "properties": {
                    "name": {"type": "string"},
                    "match": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"operation": _NAMES, "path": _NAMES, "method": _NAMES},
                    },
                    "fault": {"enum": [*KINDS, *(int(k) for k in ERROR_KINDS)]},
                    "probability": {"type": "number", "minimum": 0, "maximum": 1},
                    "times": {"type": "integer", "minimum": 1},
                    **{name: schema for name, (schema, _) in PARAMS.items()},
                },
            },
        },
    },
}


class FaultRulesError(ValueError):
    """A rules file that cannot be used; the message names the file and the field."""


class FaultHeaderError(ValueError):
    """A ``Prefer`` fault parameter that cannot be used; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"Prefer header: {message}")
        self.param = param


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault and its parameters (milliseconds as given; None where not asked for)."""

    kind: str
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    ttfe_ms: float | None = None
    interval_ms: float | None = None
    retry_after: int | None = None
    after: int = 1
    at: int = 1
    drip_bytes: int = 16
    drip_ms: float = 20.0

    @property
    def paces(self) -> bool:
        """True when the injector (not the app) times the stream's events."""
        return self.ttfe_ms is not None or self.interval_ms is not None

    def describe(self) -> str:
        """The fault as the ``X-Relaykit-Fault`` header names it (delays added by the caller)."""
        if self.kind == "cut":
            return f"cut after={self.after}"
        if self.kind == "malformed":
            return f"malformed at={self.at}"
        if self.kind == "drip":
            return f"drip {self.drip_bytes}B/{self.drip_ms:g}ms"
        if self.kind in ERROR_KINDS and self.retry_after is not None:
            return f"{self.kind} retry-after={self.retry_after}"
        return self.kind


def spec_from_params(kind: str, params: Mapping[str, Any]) -> FaultSpec:
    """A FaultSpec from type-checked parameters; a parameter the kind does not take is refused."""
    for name in params:
        kinds = PARAMS[name][1]
        if kinds is not None and kind not in kinds:
            raise _Misuse(name, f"{name} does not apply to fault={kind}")
    if kind == "latency" and "latency-ms" not in params:
        raise _Misuse("latency-ms", "fault=latency needs latency-ms")
    if kind == "pace" and "ttfe-ms" not in params and "interval-ms" not in params:
        raise _Misuse("ttfe-ms", "fault=pace needs ttfe-ms or interval-ms")
    return FaultSpec(
        kind=kind,
        latency_ms=float(params.get("latency-ms", 0)),
        jitter_ms=float(params.get("jitter-ms", 0)),
        ttfe_ms=_opt_float(params.get("ttfe-ms")),
        interval_ms=_opt_float(params.get("interval-ms")),
        retry_after=params.get("retry-after"),
        after=int(params.get("after", 1)),
        at=int(params.get("at", 1)),
        drip_bytes=int(params.get("drip-bytes", 16)),
        drip_ms=float(params.get("drip-ms", 20)),
    )


class _Misuse(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_fault_header(header: str | None) -> FaultSpec | None:
    """The fault a ``Prefer`` header asks for, or None when it asks for none.

    ``latency-ms`` alone means fault=latency; ``jitter-ms`` beside ``ttfe-ms``/``interval-ms``
    means fault=pace. Without ``fault=`` and jitter, ``ttfe-ms``/``interval-ms`` stay the app's.
    """
    if not header or ("fault" not in header and "-ms" not in header):
        return None  # the common case: no work beyond a substring test
    values = prefer_values(header)
    kind = values.get("fault")
    if kind is None:
        if "latency-ms" in values:
            kind = "latency"
        elif "jitter-ms" in values and ("ttfe-ms" in values or "interval-ms" in values):
            kind = "pace"
        else:
            return None
    kind = kind.lower()
    if kind not in KINDS:
        raise FaultHeaderError("fault", f"fault={kind} is not one of {', '.join(KINDS)}")
    mine = kind == "pace" or "jitter-ms" in values
    params: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in PARAMS or (name in ("ttfe-ms", "interval-ms") and not mine):
            continue
        params[name] = _header_value(name, raw)
    try:
        return spec_from_params(kind, params)
    except _Misuse as exc:
        raise FaultHeaderError(exc.param, str(exc)) from None


def _header_value(name: str, raw: str) -> float | int:
    schema = PARAMS[name][0]
    whole = schema["type"] == "integer"
    try:
        value: float | int = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise FaultHeaderError(name, f"{name}={raw} is not {kind}") from None
    if not schema["minimum"] <= value <= schema["maximum"]:
        raise FaultHeaderError(
            name, f"{name}={raw} must be between {schema['minimum']} and {schema['maximum']}"
        )
    return value


@dataclass(slots=True)
class FaultRule:
    """One rule: when it matches, which fault, how often."""

    index: int
    spec: FaultSpec
    operations: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    probability: float = 1.0
    times: int | None = None
    name: str = ""
    used: int = 0

    @property
    def label(self) -> str:
        """How the ``X-Relaykit-Fault`` header names the rule."""
        return f"rule={self.name or self.index}"

    def matches_request(self, method: str, path: str) -> bool:
        """The method and path conditions (the operation is checked by the caller)."""
        if self.methods and method not in self.methods:
            return False
        return not self.paths or any(fnmatch.fnmatchcase(path, g) for g in self.paths)


@dataclass(slots=True)
class FaultRules:
    """The rules of one server; the first that matches (and wins its draw) applies."""

    rules: list[FaultRule]
    seed: int | None = None
    source: str = "<rules>"
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def wants_body(self, resolution: Resolution) -> bool:
        """True when a rule names one of several operations the request may mean."""
        if resolution.operation is not None or not resolution.candidates:
            return False
        ids = {op.id for op in resolution.candidates}
        return any(ids.intersection(r.operations) for r in self.rules)

    def pick(self, method: str, path: str, operation: Callable[[], str | None]) -> FaultRule | None:
        """The rule for this request; ``operation()`` resolves the operation id when needed."""
        for rule in self.rules:
            if not rule.matches_request(method, path):
                continue
            if rule.operations and operation() not in rule.operations:
                continue
            if rule.times is not None and rule.used >= rule.times:
                continue
            # the draw happens only for rules that match, so the sequence depends on traffic
            # order alone, never on which rules precede
            if rule.probability < 1 and self.rng.random() >= rule.probability:
                continue
            rule.used += 1
            return rule
        return None

    def check_operations(self, known: Iterable[str]) -> None:
        """Refuse rules naming an operation the contracts do not have."""
        ids = set(known)
        for rule in self.rules:
            for op in rule.operations:
                if op not in ids:
                    raise FaultRulesError(
                        f"{self.source}: rules.{rule.index}.match.operation: "
                        f"unknown operation {op!r}"
                    )


def rules_from_dict(data: Any, where: str = "<rules>") -> FaultRules:
    """Validate and build the rules; FaultRulesError names ``where`` and the field."""
    import jsonschema  # only with a rules file: serving without one never needs it

    errors = sorted(
        jsonschema.Draft202012Validator(RULES_SCHEMA).iter_errors(data),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        e = errors[0]
        at = ".".join(str(p) for p in e.absolute_path) or "<root>"
        raise FaultRulesError(f"{where}: {at}: {e.message}")
    rules = []
    for i, raw in enumerate(data["rules"]):
        kind = str(raw["fault"])
        params = {k: v for k, v in raw.items() if k in PARAMS}
        try:
            spec = spec_from_params(kind, params)
        except _Misuse as exc:
            raise FaultRulesError(f"{where}: rules.{i}.{exc.param}: {exc}") from None
        match = raw.get("match", {})
        rules.append(
            FaultRule(
                index=i,
                spec=spec,
                operations=_names(match.get("operation")),
                paths=_names(match.get("path")),
                methods=tuple(m.upper() for m in _names(match.get("method"))),
                probability=float(raw.get("probability", 1.0)),
                times=raw.get("times"),
                name=raw.get("name", ""),
            )
        )
    return FaultRules(rules, seed=data.get("seed"), source=where)


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def load_fault_rules(path: Path, contracts: ContractSet | None = None) -> FaultRules:
    """Read a YAML rules file; with ``contracts``, operation ids are checked too."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FaultRulesError(f"{path}: cannot read the fault rules: {exc}") from None
    rules = rules_from_dict(data, str(path))
    if contracts is not None:
        rules.check_operations(op.id for op in contracts.operations)
    return rules
