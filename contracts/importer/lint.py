"""The lint of a document: its mistakes, each at a place in the source, like the seed errata.

Rules (the ``rule`` of a finding):

- ``example-schema``: an example breaks its own schema (kept as an erratum, never served);
- ``example-required``: an example lacks a field its schema requires (kept as an erratum);
- ``stream-json-answer``: a request that asks for a stream (``stream: true``) is answered
  with JSON in the document;
- ``path-mismatch``: the path an example calls (curl, a saved request) is not the documented
  path;
- ``duplicate-id``: two operations share an operationId (the second is renamed);
- ``duplicate-route``: two operations on one method and path that nothing tells apart (the
  second is not imported);
- ``unresolved-ref``: a ``$ref`` that does not resolve (the reader finds those);
- ``invalid-schema``: a schema that is not valid JSON Schema (imported as ``{}``);
- ``oneof-overlap``: a response schema whose ``oneOf`` alternatives overlap, so that no
  answer satisfies it (read as ``anyOf``; found when making an answer, ``complete``);
- ``no-answer``: a JSON answer with no valid example, documented or made (``complete``);
- ``schema-dialect``: a 3.1 schema written in 3.0 terms (``nullable``, boolean
  ``exclusiveMinimum``) or listing a required field twice, read as meant (the reader).
"""

from __future__ import annotations

import re
from typing import Any

from contracts.importer.model import Draft, DraftExample, DraftStream, Finding
from contracts.validation import Problem, Validators

RULES = (
    "example-schema",
    "example-required",
    "stream-json-answer",
    "path-mismatch",
    "duplicate-id",
    "duplicate-route",
    "unresolved-ref",
    "invalid-schema",
    "schema-dialect",
    "oneof-overlap",
    "no-answer",
)


def structure(drafts: list[Draft]) -> tuple[list[Draft], list[Finding]]:
    """Duplicate ids renamed, duplicate routes dropped; the drafts kept and the findings."""
    findings: list[Finding] = []
    ids: dict[str, Draft] = {}
    routes: dict[tuple[str, str, str], Draft] = {}
    operation_ids: dict[str, Draft] = {}
    kept: list[Draft] = []
    for draft in drafts:
        mode = draft.stream.when if draft.stream else "none"
        route = (
            draft.method,
            draft.path,
            repr((sorted(draft.match.items()), draft.priority, mode)),
        )
        if route in routes:
            earlier = routes[route]
            findings.append(
                Finding(
                    "duplicate-route",
                    draft.label,
                    draft.pointer,
                    f"{draft.method} {draft.path} is also {earlier.id} ({earlier.pointer}) "
                    "and nothing tells the two apart; only the first is imported",
                    severity="warning",
                )
            )
            continue
        routes[route] = draft
        first: Draft | None = operation_ids.get(draft.operation_id) if draft.operation_id else None
        new_id = draft.id
        if draft.id in ids:
            n = 2
            while new_id in ids:
                new_id, n = f"{draft.id}_{n}", n + 1
            first = first or ids[draft.id]
        if first is not None and first is not draft:
            findings.append(
                Finding(
                    "duplicate-id",
                    draft.label,
                    draft.pointer + "/operationId",
                    f"operationId {draft.operation_id or draft.id!r} is also {first.label}"
                    + (f"; imported as {new_id}" if new_id != draft.id else ""),
                )
            )
        draft.id = new_id
        if draft.operation_id:
            operation_ids.setdefault(draft.operation_id, draft)
        ids[draft.id] = draft
        kept.append(draft)
    return kept, findings


def schemas(draft: Draft, validators: Validators) -> list[Finding]:
    """Schemas that do not compile are replaced by ``{}``, one finding each."""
    findings: list[Finding] = []

    def check(schema: Any, where: str) -> Any:
        if schema is None:
            return None
        try:
            validators.compile(schema)
        except (ValueError, TypeError, OverflowError) as exc:
            findings.append(
                Finding(
                    "invalid-schema",
                    draft.label,
                    where,
                    f"not a valid JSON Schema ({_first_line(exc)}); imported as {{}} (anything)",
                )
            )
            return {}
        return schema

    draft.request_schema = check(draft.request_schema, draft.request_schema_pointer)
    draft.response_schema = check(draft.response_schema, draft.response_schema_pointer)
    if draft.stream is not None:
        draft.stream.event_schema = check(draft.stream.event_schema, draft.stream.pointer)
    for name, schema in list(draft.path_params.items()):
        draft.path_params[name] = check(schema, draft.pointer + "/parameters")
    draft.query = check(draft.query, draft.pointer + "/parameters")
    for err in draft.errors:
        err.schema = check(err.schema, draft.pointer + "/responses")
    return findings


def examples(draft: Draft, validators: Validators) -> list[Finding]:
    """Examples that break their schema: a finding each, and the example marked an erratum."""
    findings: list[Finding] = []

    def judge(ex: DraftExample, schema: Any, value: Any, what: str) -> None:
        if schema is None or ex.erratum is not None:
            return
        try:
            problems = validators.problems(schema, value, limit=3)
        except (ValueError, TypeError, OverflowError) as exc:
            problems = [Problem((), f"cannot be validated: {_first_line(exc)}")]
        if not problems:
            return
        missing = [p for p in problems if "is a required property" in p.message]
        rule = "example-required" if missing else "example-schema"
        said = "; ".join(str(p) for p in (missing or problems))
        finding = Finding(
            rule,
            draft.label,
            ex.pointer,
            f"the {what} example {label(ex)} breaks its schema: {said}",
        )
        ex.erratum = finding
        findings.append(finding)

    if draft.request_type == "application/json":
        for ex in draft.request_examples:
            judge(ex, draft.request_schema, ex.value, "request")
    if draft.response_type == "application/json":
        for ex in draft.response_examples:
            judge(ex, draft.response_schema, ex.value, "response")
    if draft.stream is not None and draft.stream.framing == "sse-data":
        for ex in draft.stream.examples:
            if not isinstance(ex.value, list):
                continue
            for i, event in enumerate(ex.value):
                if ex.erratum is None:
                    judge(ex, draft.stream.event_schema, event, f"stream (event {i})")
    return findings


def stream_answers(draft: Draft) -> list[Finding]:
    """Stream requests answered with JSON (a response example of the request example's name).

    The JSON answer moves to the stream's examples as the erratum's evidence; an operation
    whose requests ask for a stream gets a stream block even when the document has none.
    """
    findings: list[Finding] = []
    answers = {e.name: e for e in draft.response_examples}
    for ex in draft.request_examples:
        if not (isinstance(ex.value, dict) and ex.value.get("stream") is True):
            continue
        answer = answers.get(ex.name)
        streamed = {e.name for e in draft.stream.examples} if draft.stream else set()
        if ex.name in streamed or (answer is None and draft.stream is not None):
            continue  # the document's stream answers it
        where = answer.pointer if answer is not None else draft.response_schema_pointer
        finding = Finding(
            "stream-json-answer",
            draft.label,
            where or draft.pointer,
            f"the request example {label(ex)} asks for a stream (stream: true) "
            "but the document answers it with JSON",
        )
        findings.append(finding)
        if draft.stream is None:
            draft.stream = DraftStream(when="requested", pointer=where or draft.pointer)
        if answer is not None:
            draft.response_examples.remove(answer)
            answer.erratum = answer.erratum or finding
            answer.value = [answer.value]
            draft.stream.examples.append(answer)
    return findings


def paths(draft: Draft, base: str) -> list[Finding]:
    """Example URLs whose path is not the documented one."""
    findings: list[Finding] = []
    template = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(draft.path))
    short = draft.path[len(base) :] if base and draft.path.startswith(base) else draft.path
    short_template = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(short))
    for url_path, where in draft.example_urls:
        path = url_path.rstrip("/") or "/"
        if re.fullmatch(template, path) or re.search(f"(^|/){short_template[1:]}$", path):
            continue
        findings.append(
            Finding(
                "path-mismatch",
                draft.label,
                where,
                f"the example calls {path} but the documented path is {draft.path}",
                severity="error",
            )
        )
    return findings


def label(ex: DraftExample) -> str:
    """An example as a finding names it: its name, and its title when the name is a hash."""
    return (
        f"{ex.name!r} ({ex.summary})"
        if ex.name.startswith("ex-") and ex.summary
        else (repr(ex.name))
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
