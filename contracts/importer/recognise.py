"""What an imported operation is in relaykit's terms, from what relaykit already knows.

Auth schemes are read against the export's own table (``contracts.openapi.SECURITY_SCHEMES``);
error envelopes against ``envelopes.yaml``; and an operation on the method and path of a
shipped contract, whose request examples select it, *matches* that contract: it is said so,
and it takes the shipped contract's mock behaviour (renderer, stream terminator, invariants)
when its documented answer has the shipped contract's shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import selection
from contracts.importer import synth
from contracts.importer.model import Draft
from contracts.importer.shapes import as_dict
from contracts.model import ContractSet, Envelope, Operation
from contracts.openapi import SECURITY_SCHEMES
from contracts.validation import REF_PREFIX, Validators, iter_refs

_HEADER_SCHEMES = {
    str(s["name"]).lower(): name
    for name, s in SECURITY_SCHEMES.items()
    if s.get("type") == "apiKey" and s.get("in") == "header"
} | {"authorization": "bearer"}
_QUERY_SCHEMES = {
    str(s["name"]): name
    for name, s in SECURITY_SCHEMES.items()
    if s.get("type") == "apiKey" and s.get("in") == "query"
}
_BORROWED_RENDERS = {
    "chat.completion",
    "text_completion",
    "embeddings",
    "models",
    "images",
    "audio.speech",
    "audio.transcription",
}


@dataclass
class Settled:
    """What ``settle`` had to assume or leave out for one draft (the run's notes)."""

    unknown_auth: list[str] = field(default_factory=list)
    assumed_auth: bool = False
    assumed_envelope: bool = False


def settle(
    draft: Draft,
    shipped: ContractSet,
    validators: Validators,
    table: Mapping[tuple[str, str], list[Operation]],
) -> Settled:
    """Auth, shipped matches (and what they lend), envelope, documented errors and vendor."""
    components = shipped.components
    out = Settled()
    names = auth(draft)
    out.unknown_auth = [n[1:] for n in names if n.startswith("?")]
    draft.auth = [n for n in names if not n.startswith("?")]
    plain, streamed = shipped_matches(draft, table)
    borrow(draft, plain, streamed, validators, components)
    matched = [*plain, *streamed]
    if not draft.auth and matched:  # undocumented: the shipped contract's scheme
        draft.auth = list(matched[0].auth)
    if not draft.auth:
        draft.auth, out.assumed_auth = ["bearer"], True
    envelope = envelope_of(draft, shipped.envelopes, validators, components)
    if envelope is None and matched:
        envelope = matched[0].errors.envelope
    if envelope is None:
        envelope, out.assumed_envelope = "openai", True
    draft.envelope = envelope
    schema = shipped.envelopes[envelope].schema
    draft.errors = [e for e in draft.errors if 400 <= e.status <= 599]
    for err in draft.errors:
        if err.example is not None and not validators.is_valid(schema, err.example):
            err.example = None  # the mock answers errors in the envelope, never off it
    draft.vendor = (
        matched[0].vendor if matched else "imported" if out.assumed_envelope else envelope
    )
    return out


def kept_components(doc_schemas: Any, shipped: Mapping[str, Any]) -> frozenset[str]:
    """Shared schemas of the document equal to the shipped ones (kept as references)."""
    if not isinstance(doc_schemas, dict):
        return frozenset()
    same = {n for n, s in doc_schemas.items() if n in shipped and shipped[n] == s}
    changed = True
    while changed:  # a schema is kept only when everything it references is kept too
        changed = False
        for name in list(same):
            for _, ref in iter_refs(doc_schemas[name]):
                if not ref.startswith(REF_PREFIX) or ref[len(REF_PREFIX) :] not in same:
                    same.discard(name)
                    changed = True
                    break
    return frozenset(same)


def auth(draft: Draft) -> list[str]:
    """The draft's auth schemes; what relaykit cannot present is listed with a ``?``."""
    names: list[str] = []
    for scheme in draft.security:
        kind = scheme.get("type")
        if kind == "none":
            names.append("none")
        elif kind in ("oauth2", "openIdConnect") or (
            kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
        ):
            names.append("bearer")
        elif kind == "apiKey" and scheme.get("in") == "header":
            header = str(scheme.get("name", ""))
            names.append(_HEADER_SCHEMES.get(header.lower(), f"?header {header}"))
        elif kind == "apiKey" and scheme.get("in") == "query":
            param = str(scheme.get("name", ""))
            names.append(_QUERY_SCHEMES.get(param, f"?query {param}"))
        else:
            names.append(f"?{kind or scheme.get('name')} {scheme.get('in', '')}".strip())
    for header in draft.auth_headers:
        if header in _HEADER_SCHEMES:
            names.append(_HEADER_SCHEMES[header])
    return list(dict.fromkeys(names))


def envelope_of(
    draft: Draft,
    envelopes: Mapping[str, Envelope],
    validators: Validators,
    components: Mapping[str, Any],
) -> str | None:
    """The envelope the documented errors are in: the one whose schema they name, else the
    one every error body (or its schema's instance) fits with the fewest fields it does not
    declare (Anthropic's body fits OpenAI's schema too, but declares a top-level ``type``)."""
    for err in draft.errors:
        for name, env in envelopes.items():
            if err.schema is not None and err.schema == env.schema:
                return name
    bodies = []
    for err in draft.errors:
        body = err.example
        if body is None:
            body = synth.instance(err.schema, components, full=True)
        if isinstance(body, dict) and body:
            bodies.append(body)
    if not bodies:
        return None
    scored = []
    for order, (name, env) in enumerate(envelopes.items()):
        fits = [b for b in bodies if validators.is_valid(env.schema, b)]
        if fits:
            stray = sum(_undeclared(b, env.schema, validators) for b in fits)
            scored.append((-len(fits), stray, order, name))
    return min(scored)[3] if scored else None


def _undeclared(body: Any, schema: Any, validators: Validators) -> int:
    """How many fields of ``body`` (at any depth) ``schema`` does not declare."""
    schema = validators.resolve(schema)
    if not isinstance(body, dict) or not isinstance(schema, dict):
        return 0
    props = as_dict(schema.get("properties"))
    return sum(
        _undeclared(value, props[key], validators) if key in props else 1
        for key, value in body.items()
    )


def _route_key(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def route_table(shipped: ContractSet) -> dict[tuple[str, str], list[Operation]]:
    """The shipped operations by method and route (parameter names ignored)."""
    table: dict[tuple[str, str], list[Operation]] = {}
    for op in shipped:
        table.setdefault((op.method, _route_key(op.path)), []).append(op)
    return table


def shipped_matches(
    draft: Draft, table: Mapping[tuple[str, str], list[Operation]]
) -> tuple[list[Operation], list[Operation]]:
    """Shipped operations the draft's requests select: (answering JSON, answering a stream)."""
    ops = table.get((draft.method, _route_key(draft.path)), [])
    if not ops:
        return [], []
    bodies = [e.value for e in draft.request_examples if e.erratum is None]
    if not bodies:
        bodies = [{}]
    plain: list[Operation] = []
    streamed: list[Operation] = []
    for body in bodies:
        if not isinstance(body, dict):
            continue
        for wants_stream, found in ((False, plain), (True, streamed)):
            if wants_stream and draft.stream is None:
                continue
            if not wants_stream and draft.stream is not None and draft.stream.when == "always":
                continue
            probe = {**body, "stream": wants_stream} if draft.request_type != "none" else body
            op = selection.select(ops, probe)
            answers = op is not None and (
                op.stream is not None if wants_stream else not op.streams_always
            )
            if op is not None and answers and op not in found:
                found.append(op)
    return plain, streamed


def borrow(
    draft: Draft,
    plain: list[Operation],
    streamed: list[Operation],
    validators: Validators,
    components: Mapping[str, Any],
) -> None:
    """Take the matched shipped contracts' mock behaviour where the shapes agree both ways:
    the document's answer fits the shipped schema (the renderer can read it), and the shipped
    contract's own answers fit the document's schema (what the renderer writes will too)."""
    answer = next((e.value for e in draft.response_examples if e.erratum is None), None)
    if answer is None:
        answer = synth.instance(draft.response_schema, components)
    for op in plain:
        if (
            op.response.render in _BORROWED_RENDERS
            and op.response.schema is not None
            and validators.is_valid(op.response.schema, answer)
            and _fits(
                draft.response_schema,
                [e.value for e in op.response.examples if e.servable],
                validators,
            )
        ):
            draft.render = op.response.render
            break
    if draft.stream is not None:
        for op in streamed:
            assert op.stream is not None
            events = [ev for e in op.stream.examples if e.servable for ev in e.value]
            if op.stream.framing != draft.stream.framing or (
                op.stream.framing == "sse-data"
                and not _fits(draft.stream.event_schema, events, validators)
            ):
                continue
            draft.stream.render = op.stream.render
            if draft.stream.terminator is None:
                draft.stream.terminator = op.stream.terminator
            if draft.stream.event_schema is None and not any(
                e.erratum is None for e in draft.stream.examples
            ):
                draft.stream.event_schema = op.stream.event_schema
            break
    matched = [*plain, *streamed]
    if matched and (draft.render != "static" or (draft.stream and draft.stream.render != "static")):
        shared = _common(op.invariants for op in matched)
        draft.invariants = [i for i in shared if _applies(i, draft)]
    draft.shipped = [op.id for op in matched]


def _fits(schema: Any, values: list[Any], validators: Validators) -> bool:
    return schema is None or all(validators.is_valid(schema, v) for v in values)


def _common(lists: Iterable[tuple[str, ...]]) -> list[str]:
    lists = list(lists)
    first = list(lists[0]) if lists else []
    return [i for i in first if all(i in other for other in lists[1:])]


def _applies(invariant: str, draft: Draft) -> bool:
    return not ("chunk" in invariant and draft.stream is None)
