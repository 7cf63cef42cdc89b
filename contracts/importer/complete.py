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
from contracts.importer.model import Draft, DraftExample, DraftStream
from contracts.validation import Validators

MADE = "relaykit (made from the schema)"


def _made(schema: Any, validators: Validators, components: Mapping[str, Any]) -> Any:
    value = synth.instance(schema, components)
    if value is None or (schema is not None and not validators.is_valid(schema, value)):
        return None
    return value


def examples(draft: Draft, validators: Validators, components: Mapping[str, Any]) -> None:
    """A servable request, response and stream example where the document gives none."""
    if draft.request_type == "application/json" and not _servable(draft.request_examples):
        value = _made(draft.request_schema, validators, components)
        if isinstance(value, dict):
            draft.request_examples.append(DraftExample("made", value, source=MADE))
    if draft.response_type == "application/json" and not _servable(draft.response_examples):
        value = _made(draft.response_schema, validators, components)
        if value is not None:
            draft.response_examples.append(DraftExample("made", value, source=MADE))
    if draft.stream is not None and not _servable(draft.stream.examples):
        stream_example(draft.stream, validators, components)
    if draft.stream is not None and draft.stream.framing == "sse-named":
        for ex in draft.stream.examples:  # every event name an example uses is declared
            for event in ex.value if isinstance(ex.value, list) else []:
                if isinstance(event, dict) and isinstance(event.get("event"), str):
                    draft.stream.events.setdefault(event["event"], {})
    for name, schema in draft.path_params.items():
        if isinstance(schema, dict) and not schema.get("examples") and not schema.get("enum"):
            value = _made(schema, validators, components)
            draft.path_params[name] = {**schema, "examples": [value if value else f"{name}-1"]}


def stream_example(
    stream: DraftStream, validators: Validators, components: Mapping[str, Any]
) -> None:
    """One event made from the event schema (the schema's instance, or ``{}``)."""
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
