"""A target profile: which relay, which key variable, models per capability, what to run, budget.

Profiles are YAML; a malformed one is refused with the file and the field at fault. The key
itself never lives in a profile, only the name of the environment variable that holds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from contracts.paths import PrefixMap
from suites.bounded import MAX_BODY_BYTES

DEFAULT_KEY_ENV = "RELAYKIT_API_KEY"

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "base_url": {"type": "string", "pattern": "^https?://"},
        "key_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "models": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
        "path_map": {"type": "array", "items": {"type": "string"}},
        "families": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "include": {"type": "array", "items": {"type": "string"}},
                "exclude": {"type": "array", "items": {"type": "string"}},
            },
        },
        "budget": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "requests": {"type": "integer", "minimum": 0},
                "tokens": {"type": "integer", "minimum": 0},
                "paid_media_calls": {"type": "integer", "minimum": 0},
            },
        },
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rps": {"type": "number", "exclusiveMinimum": 0},
                "timeout": {"type": "number", "exclusiveMinimum": 0},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "stream_seconds": {"type": "number", "exclusiveMinimum": 0},
                "stream_stall": {"type": "number", "exclusiveMinimum": 0},
                "task_seconds": {"type": "number", "exclusiveMinimum": 0},
                "poll_interval": {"type": "number", "exclusiveMinimum": 0},
                "concurrency": {"type": "integer", "minimum": 1, "maximum": 32},
                "max_body_bytes": {"type": "integer", "minimum": 1024},
                "run_seconds": {"type": "number", "exclusiveMinimum": 0},
            },
        },
    },
}


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Hard caps for one run: what is over them is not sent and is recorded as skipped."""

    requests: int = 500
    tokens: int = 50_000
    paid_media_calls: int = 0


@dataclass(frozen=True, slots=True)
class Limits:
    """Manners toward the relay and caps on waiting and reading.

    ``timeout`` is each request's deadline: connect, headers and the whole body; a stream's is
    ``stream_seconds``, and no read of either waits longer than ``stream_stall``."""

    rps: float = 5.0
    timeout: float = 60.0
    retries: int = 2
    stream_seconds: float = 60.0
    stream_stall: float = 15.0
    task_seconds: float = 300.0
    poll_interval: float = 1.0
    """First wait between two polls of a task; later waits grow 1.5x up to 10 s."""
    concurrency: int = 2
    """Operations checked at the same time (the rate limit still holds across them)."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Most bytes of a response body read (after decompression); a longer body is cut there,
    not parsed, and recorded as an error naming the cap."""
    run_seconds: float = 900.0
    """After this long nothing more is sent: the rest of the run is skipped with that reason
    (requests already sent end within their own deadlines)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything `relaykit check` needs to know about one relay."""

    name: str = "relay"
    base_url: str | None = None
    key_env: str = DEFAULT_KEY_ENV
    models: dict[str, str] = field(default_factory=dict)
    path_map: PrefixMap = field(default_factory=PrefixMap)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    budget: Budget = field(default_factory=Budget)
    limits: Limits = field(default_factory=Limits)

    def api_key(self) -> str | None:
        """The key from the environment variable the profile names (never from argv)."""
        return os.environ.get(self.key_env) or None

    def wants_family(self, family: str) -> bool:
        """True when the family is included (all by default) and not excluded."""
        return (not self.include or family in self.include) and family not in self.exclude


def profile_from_dict(data: dict[str, Any], where: str = "<profile>") -> Profile:
    """Validate and build a profile; ProfileError names the field at fault."""
    errors = sorted(
        jsonschema.Draft202012Validator(PROFILE_SCHEMA).iter_errors(data),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        e = errors[0]
        at = ".".join(str(p) for p in e.absolute_path) or "<root>"
        raise ProfileError(f"{where}: {at}: {e.message}")
    try:
        path_map = PrefixMap.parse(data.get("path_map", []))
    except ValueError as exc:
        raise ProfileError(f"{where}: path_map: {exc}") from None
    families = data.get("families", {})
    return Profile(
        name=data.get("name", "relay"),
        base_url=data.get("base_url"),
        key_env=data.get("key_env", DEFAULT_KEY_ENV),
        models=dict(data.get("models", {})),
        path_map=path_map,
        include=tuple(families.get("include", ())),
        exclude=tuple(families.get("exclude", ())),
        budget=Budget(**data.get("budget", {})),
        limits=Limits(**data.get("limits", {})),
    )


def load_profile(path: Path) -> Profile:
    """Read a YAML profile file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: <root>: expected a mapping")
    return profile_from_dict(data, str(path))
