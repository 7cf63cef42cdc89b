"""What an import works on: draft operations read from a document, and the lint's findings.

A ``Draft`` holds everything one contract needs, already in the contract's terms (inlined
JSON Schemas, examples, a stream block), plus where each piece came from in the source, so a
finding can name the place. ``write`` turns a Draft into contract YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]


@dataclass(eq=False)
class Finding:
    """One mistake (or one thing lost) in the document, at a place in the source."""

    rule: str
    operation: str
    pointer: str
    message: str
    severity: Severity = "error"
    line: int | None = None
    ref: str = ""

    def where(self) -> str:
        """``/paths/~1v1~1x/post (line 12)``, or the pointer alone."""
        return f"{self.pointer or '/'} (line {self.line})" if self.line else self.pointer or "/"

    def to_json(self) -> dict[str, Any]:
        """The finding as lint.json lists it."""
        return {
            "ref": self.ref,
            "rule": self.rule,
            "severity": self.severity,
            "operation": self.operation,
            "pointer": self.pointer,
            "line": self.line,
            "message": self.message,
        }


@dataclass
class DraftExample:
    """An example with the place it was read from (``pointer``) and its erratum, if any."""

    name: str
    value: Any
    pointer: str = ""
    summary: str = ""
    source: str = ""
    erratum: Finding | None = None


@dataclass
class DraftStream:
    """A stream block in the making."""

    framing: Literal["sse-data", "sse-named"] = "sse-data"
    when: Literal["always", "requested"] = "requested"
    event_schema: Any = None
    events: dict[str, Any] = field(default_factory=dict)
    terminator: str | None = None
    examples: list[DraftExample] = field(default_factory=list)
    render: str = "static"
    pointer: str = ""
    asked_by: dict[str, Any] | None = None
    """What asks for the stream when it is not ``stream: true`` (relaykit's own export)."""


@dataclass
class DraftError:
    """A documented error status, with its example when it fits the envelope."""

    status: int
    when: str = ""
    example: Any = None
    schema: Any = None


@dataclass
class Draft:
    """One operation of the document, on its way to becoming a contract."""

    id: str
    family: str
    method: str
    path: str
    pointer: str
    vendor: str = "imported"
    summary: str = ""
    description: str = ""
    operation_id: str = ""
    tags: list[str] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    security: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    path_params: dict[str, Any] = field(default_factory=dict)
    query: Any = None
    request_type: str = "none"
    request_schema: Any = None
    request_schema_pointer: str = ""
    request_examples: list[DraftExample] = field(default_factory=list)
    status: int = 200
    response_type: str = "application/json"
    response_schema: Any = None
    response_schema_pointer: str = ""
    response_examples: list[DraftExample] = field(default_factory=list)
    stream: DraftStream | None = None
    match: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    errors: list[DraftError] = field(default_factory=list)
    envelope: str = ""
    render: str = "static"
    invariants: list[str] = field(default_factory=list)
    example_urls: list[tuple[str, str]] = field(default_factory=list)
    shipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How a finding names the operation: its id and route."""
        return f"{self.id} ({self.method} {self.path})"


@dataclass
class Document:
    """A document read into drafts, with the findings met while reading it."""

    file: str
    format: str
    version: str
    title: str
    drafts: list[Draft] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
