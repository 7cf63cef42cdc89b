"""Requests a run sends, built from an operation's documented examples and a target profile.

A ``Probe`` is one request before it is sent: the operation, a body (JSON, or a form whose
``<binary image/png>`` placeholders become sample files), the path with its parameters filled
and whether the answer should stream. The profile's model names replace the documented ones.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.media import sample
from contracts.model import Operation
from contracts.paths import template
from suites.profile import Profile
from suites.transport import RUN_KEY, KeyChoice, Transport

_BINARY = re.compile(r"^<binary ([\w.+-]+/[\w.+-]+)>$")


@dataclass(slots=True)
class Probe:
    """One request for one operation, ready to be built by the transport."""

    op: Operation
    source: str
    body: Any = None
    path_values: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The contract path with its parameters filled (unfilled ones stay as ``{name}``)."""
        return template(self.op.path).fill(self.path_values)

    @property
    def missing_params(self) -> list[str]:
        """Path parameters that still have no value."""
        return [p for p in template(self.op.path).names if p not in self.path_values]

    @property
    def streamed(self) -> bool:
        """True when a conforming answer to this request is a stream."""
        return self.op.wants_stream(self.body, self.query)

    @property
    def json_body(self) -> dict[str, Any]:
        """The body when it is a JSON object, else an empty dict (for invariants)."""
        return self.body if isinstance(self.body, dict) else {}

    def build(self, transport: Transport, key: KeyChoice = RUN_KEY) -> httpx.Request:
        """The httpx request; ``key`` as in Transport.build (None: present no key)."""
        kwargs: dict[str, Any] = {"headers": dict(self.headers)}
        if self.query:
            kwargs["params"] = self.query
        kind = self.op.request.content_type
        if self.body is not None and kind == "application/json":
            kwargs["json"] = self.body
        elif self.body is not None and kind == "multipart/form-data":
            kwargs["files"] = form_parts(self.body)
        elif self.body is not None and isinstance(self.body, bytes | str):
            kwargs["content"] = self.body
            kwargs["headers"]["content-type"] = kind
        return transport.build(self.op.method, self.path, schemes=self.op.auth, key=key, **kwargs)

    def describe_body(self) -> str:
        """A short text of the body for findings (files shown by name and size)."""
        if self.body is None:
            return ""
        if self.op.request.content_type == "multipart/form-data" and isinstance(self.body, dict):
            return "multipart: " + json.dumps(self.body, ensure_ascii=False)
        if isinstance(self.body, bytes):
            return f"<{len(self.body)} bytes of {self.op.request.content_type}>"
        return json.dumps(self.body, ensure_ascii=False)


def form_parts(form: dict[str, Any]) -> list[tuple[str, Any]]:
    """httpx ``files`` parts for a form: placeholders become sample files, the rest text."""
    parts: list[tuple[str, Any]] = []
    for name, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            m = _BINARY.match(item) if isinstance(item, str) else None
            if m:
                data, filename, media_type = sample(m.group(1))
                parts.append((name, (filename, data, media_type)))
            elif isinstance(item, dict | list):
                parts.append((name, (None, json.dumps(item), "application/json")))
            else:
                text = str(item).lower() if isinstance(item, bool) else str(item)
                parts.append((name, (None, text)))
    return parts


CAPABILITIES = (
    "chat", "vision", "reasoning", "chat-audio", "embeddings", "images", "tts", "stt",
    "completions",
)  # fmt: skip
"""Capability names a profile's ``models`` may use besides operation ids and families."""


def capability(op: Operation) -> str | None:
    """The capability an operation exercises, for the profile's ``models`` (None: none of
    CAPABILITIES; media-task families are named by their family)."""
    if op.family == "openai-chat":
        if "vision" in op.id:
            return "vision"
        if "o1_series" in op.id or "reasoning" in op.id:
            return "reasoning"
        if "audio" in op.id:
            return "chat-audio"
        return "chat"
    if op.family == "claude-native":
        return "chat"
    if op.family == "openai-completions":
        return "completions"
    if op.family == "audio":
        return "tts" if op.id.endswith(".speech") else "stt"
    if op.family in ("embeddings", "images"):
        return op.family
    return None


def profile_model(op: Operation, profile: Profile) -> str | None:
    """The model the profile names for the operation id, else its capability, else its family;
    only the operation id for an operation selected by its model (gpt-4-all, suno-v3.5...),
    whose documented model is what makes it that operation."""
    model = profile.models.get(op.id)
    if model is None and not any(c.field == "model" for c in op.match):
        for key in (capability(op), op.family):
            if key is not None and key in profile.models:
                return profile.models[key]
    return model


def with_models(body: Any, op: Operation, profile: Profile) -> Any:
    """The body with ``model`` replaced by the profile's model for the operation."""
    model = profile_model(op, profile)
    if model and isinstance(body, dict) and "model" in body:
        return {**body, "model": model}
    return body


def example_probes(op: Operation, profile: Profile) -> list[Probe]:
    """One probe per servable request example (one bare probe when the operation has none).
    A model in the path (Gemini's ``/v1beta/models/{model}:generateContent``) is the profile's
    too."""
    values = default_path_values(op)
    model = profile_model(op, profile) if "model" in op.path_params else None
    if model:
        values["model"] = model
    probes = [
        Probe(
            op,
            f"example:{e.name}",
            with_models(copy.deepcopy(e.value), op, profile),
            dict(values),
            dict(e.query),
        )
        for e in op.request.examples
        if e.servable
    ]
    if not probes:
        probes.append(Probe(op, "example:none", None, dict(values)))
    return probes


def default_path_values(op: Operation) -> dict[str, str]:
    """Path parameters the contract gives a value for (its examples, else its first enum)."""
    values: dict[str, str] = {}
    for name, schema in op.path_params.items():
        if not isinstance(schema, dict):
            continue
        choices = schema.get("examples") or schema.get("enum") or []
        if choices:
            values[name] = str(choices[0])
    return values
