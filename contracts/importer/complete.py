"""What a draft lacks that a contract needs, made from what the document does say.

A contract needs a servable example for every answer the mock gives, an auth scheme, an
error envelope, and path parameter values the checks can send. What the document does not
give is made here (examples from the schemas, ``synth``), and said in the contract: an example
made here has ``source: relaykit (made from the schema)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.importer import synth
from contracts.importer.model import Draft, DraftExample, DraftStream, Finding
from contracts.importer.shapes import as_dict
from contracts.validation import Validators

MADE = "relaykit (made from the schema)"


def _made(schema: Any, validators: Validators, components: Mapping[str, Any]) -> Any:
    for value in synth.candidates(schema, components):
        if value is not None and (schema is None or validators.is_valid(schema, value)):
            return value
    return None


def examples(draft: Draft, validators: Validators, components: Mapping[str, Any]) -> list[Finding]:
    """A servable request, response and stream example where the document gives none; a
    response schema no answer can satisfy is a finding."""
    findings: list[Finding] = []
    if draft.request_type == "application/json" and not _servable(draft.request_examples):
        value = _made(draft.request_schema, validators, components)
        if isinstance(value, dict):
            draft.request_examples.append(DraftExample("made", value, source=MADE))
    if draft.request_type == "multipart/form-data" and not _servable(draft.request_examples):
        form = form_example(draft, validators, components)
        if form:
            draft.request_examples.append(DraftExample("made", form, source=MADE))
    if draft.response_type == "application/json" and not _servable(draft.response_examples):
        value = _made(draft.response_schema, validators, components)
        if value is None and _overlapping_one_of(draft, validators, components):
            findings.append(
                Finding(
                    "oneof-overlap",
                    draft.label,
                    draft.response_schema_pointer,
                    "no answer satisfies the response schema: its oneOf alternatives overlap "
                    "(what fits one fits another, which oneOf forbids); read as anyOf",
                    severity="warning",
                )
            )
            value = _made(draft.response_schema, validators, components)
        if value is not None:
            draft.response_examples.append(DraftExample("made", value, source=MADE))
        elif draft.response_schema not in (None, {}):
            findings.append(
                Finding(
                    "no-answer",
                    draft.label,
                    draft.response_schema_pointer,
                    "no valid example is documented and none could be made from the schema; "
                    "the mock answers {} and its own check fails there",
                    severity="warning",
                )
            )
    if draft.stream is not None and draft.stream.framing == "sse-named":
        for ex in draft.stream.examples:  # every event name an example uses is declared
            for event in ex.value if isinstance(ex.value, list) else []:
                if isinstance(event, dict) and isinstance(event.get("event"), str):
                    draft.stream.events.setdefault(event["event"], {})
    return findings


def _overlapping_one_of(
    draft: Draft, validators: Validators, components: Mapping[str, Any]
) -> bool:
    """Read a top-level ``oneOf`` as ``anyOf`` when that alone lets an answer fit."""
    schema = draft.response_schema
    if not isinstance(schema, dict) or not isinstance(schema.get("oneOf"), list):
        return False
    relaxed = {("anyOf" if k == "oneOf" else k): v for k, v in schema.items()}
    if _made(relaxed, validators, components) is None:
        return False
    draft.response_schema = relaxed
    return True
    for name, schema in draft.path_params.items():
        if isinstance(schema, dict) and not schema.get("examples") and not schema.get("enum"):
            value = _made(schema, validators, components)
            draft.path_params[name] = {**schema, "examples": [value if value else f"{name}-1"]}


_MEDIA_HINTS = (
    ("audio", "audio/mpeg"),
    ("transcri", "audio/mpeg"),
    ("translat", "audio/mpeg"),
    ("speech", "audio/mpeg"),
    ("video", "video/mp4"),
    ("image", "image/png"),
    ("mask", "image/png"),
)


def form_example(
    draft: Draft, validators: Validators, components: Mapping[str, Any]
) -> dict[str, Any]:
    """A form: required fields from the schema, files as ``<binary type>`` placeholders."""
    schema = as_dict(draft.request_schema)
    props = as_dict(schema.get("properties"))
    required = [r for r in schema.get("required", []) if r in props]
    form: dict[str, Any] = {}
    for name in required or list(props):
        prop = props[name] if isinstance(props[name], dict) else {}
        if prop.get("format") == "binary" or prop.get("type") == "file":
            form[name] = f"<binary {_media_type(name, prop, draft.path)}>"
        elif name in required:
            value = synth.instance(prop, components)
            form[name] = value if value is not None else "string"
    return form


def _media_type(name: str, prop: dict[str, Any], path: str) -> str:
    if isinstance(prop.get("contentMediaType"), str):
        return str(prop["contentMediaType"])
    hint = f"{name} {path}".lower()
    return next((t for word, t in _MEDIA_HINTS if word in hint), "application/octet-stream")


def stream_example(
    stream: DraftStream, validators: Validators, components: Mapping[str, Any]
) -> None:
    """One event made from the event schema (the schema's instance, or ``{}``), when the
    stream has no example to serve (run after ``recognise.borrow``, which may lend the
    shipped contract's event schema)."""
    if _servable(stream.examples):
        return
    if stream.framing == "sse-named":
        name = next(iter(stream.events), "message")
        event: Any = {
            "event": name,
            "data": _made(stream.events.get(name), validators, components) or {},
        }
    else:
        event = _made(stream.event_schema, validators, components)
        if event is None:
            event = {}
    stream.examples.append(DraftExample("made", [event], source=MADE))


def _servable(items: list[DraftExample]) -> bool:
    return any(e.erratum is None for e in items)
