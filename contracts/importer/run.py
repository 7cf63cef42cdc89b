"""One import, start to end: read, convert, draft, lint, recognise, complete, write, reload."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.importer import (
    apifox,
    complete,
    lint,
    openapi,
    postman,
    recognise,
    sources,
    swagger,
    write,
)
from contracts.importer.errors import SourceError
from contracts.importer.model import Document, Draft, Finding
from contracts.loader import ContractError, load_contracts
from contracts.model import ContractSet
from contracts.openapi import SECURITY_SCHEMES
from contracts.validation import Validators


@dataclass
class ImportResult:
    """What an import did: the document read, the lint, the files written, the matches."""

    document: Document
    findings: list[Finding]
    written: list[Path] = field(default_factory=list)
    matches: dict[str, list[str]] = field(default_factory=dict)
    kept_shipped: list[str] = field(default_factory=list)
    origin: str = ""


def to_openapi(source: sources.Source) -> tuple[dict[str, Any], dict[str, str]]:
    """The document in the OpenAPI 3 shape, and the map from its pointers to the source's."""
    if source.format == "openapi":
        data: dict[str, Any] = source.data
        return data, {}
    converters: dict[str, Callable[[sources.Source], tuple[dict[str, Any], dict[str, str]]]] = {
        "swagger": swagger.convert,
        "apifox": apifox.convert,
        "postman": postman.convert,
    }
    return converters[source.format](source)


def source_pointer(converted: str, pointers: dict[str, str]) -> str:
    """A pointer of the converted document as the place it came from in the source."""
    if not pointers or not converted.startswith("/"):
        return converted
    probe = converted
    while probe:
        if probe in pointers:
            return pointers[probe] + converted[len(probe) :]
        probe = probe.rsplit("/", 1)[0]
    return converted


def draft_document(source: sources.Source, shipped: ContractSet) -> tuple[Document, list[Draft]]:
    """The document's drafts, linted, recognised and completed; findings on the Document."""
    data, pointers = to_openapi(source)
    schemas = (data.get("components") or {}).get("schemas")
    keep = recognise.kept_components(schemas, shipped.components)
    reader = openapi.Reader(source, data, keep)
    doc = reader.read()
    drafts, structural = lint.structure(doc.drafts)
    findings = [*doc.findings, *structural]
    validators = Validators(shipped.components)
    components = shipped.components
    table = recognise.route_table(shipped)
    base = openapi.base_path(data)
    unknown_auth: dict[str, list[str]] = {}
    assumed_auth: list[str] = []
    assumed_envelope: list[str] = []
    for d in drafts:
        findings += lint.schemas(d, validators)
        findings += lint.stream_answers(d)
        findings += lint.examples(d, validators)
        findings += lint.paths(d, base)
        findings += complete.examples(d, validators, components)
        settled = recognise.settle(d, shipped, validators, table)
        for name in settled.unknown_auth:
            unknown_auth.setdefault(name, []).append(d.label)
        if settled.assumed_auth:
            assumed_auth.append(d.label)
        if settled.assumed_envelope:
            assumed_envelope.append(d.label)
        if d.stream is not None:
            complete.stream_example(d.stream, validators, components)
        if d.shipped:
            findings.append(
                Finding(
                    "shipped-match",
                    d.label,
                    d.pointer,
                    "matches the shipped contract(s) "
                    + ", ".join(d.shipped)
                    + " (same method, path and selecting conditions); --keep-shipped keeps those",
                    severity="note",
                )
            )
    for scheme, users in unknown_auth.items():
        findings.append(
            Finding(
                "auth",
                _users(users),
                "/components/securitySchemes",
                f"security scheme {scheme!r} is not one relaykit presents "
                f"({', '.join(SECURITY_SCHEMES)}); left out",
                severity="note",
            )
        )
    if assumed_auth:
        findings.append(
            Finding(
                "auth",
                _users(assumed_auth),
                "",
                "no auth relaykit can present is documented; Bearer assumed",
                severity="note",
            )
        )
    if assumed_envelope:
        findings.append(
            Finding(
                "envelope",
                _users(assumed_envelope),
                "",
                "no documented error matches a known envelope; the OpenAI envelope is assumed",
                severity="note",
            )
        )
    for f in findings:
        f.pointer = source_pointer(f.pointer, pointers)
        if f.rule == "unresolved-ref" and source.format in ("swagger", "apifox"):
            f.message = f.message.replace("#/components/schemas/", "#/definitions/")
    for d in drafts:
        d.pointer = source_pointer(d.pointer, pointers)
        for ex in [
            *d.request_examples,
            *d.response_examples,
            *(d.stream.examples if d.stream else []),
        ]:
            ex.pointer = source_pointer(ex.pointer, pointers)
    doc.findings = findings
    return doc, drafts


def _users(labels: list[str]) -> str:
    return labels[0] + (f" and {len(labels) - 1} more" if len(labels) > 1 else "")


def import_document(
    path: Path,
    out_dir: Path,
    shipped: ContractSet,
    expected: str = "auto",
    keep_shipped: bool = False,
) -> ImportResult:
    """Import the document at ``path`` into ``out_dir``; SourceError when it cannot be read."""
    source = sources.read(path, expected)
    origin = path.name
    doc, drafts = draft_document(source, shipped)
    _prepare(out_dir)
    by_id = {op.id: op for op in shipped}
    to_write = [d for d in drafts if not (keep_shipped and d.shipped)]
    kept = [i for d in drafts if keep_shipped for i in d.shipped]
    findings = write.number(doc.findings)
    lines = source.lines_of([f.pointer for f in findings if f.pointer.startswith("/")])
    for f in findings:
        f.line = f.line or lines.get(f.pointer)
    written = write.write_contracts(to_write, out_dir, origin)
    written += write.copy_shipped([by_id[i].source_file for i in kept], out_dir)
    dropped = _reload(out_dir, written, findings)
    written = [p for p in written if p not in dropped]
    result = ImportResult(
        doc,
        findings,
        written,
        {d.id: d.shipped for d in drafts if d.shipped},
        list(dict.fromkeys(kept)),
        origin,
    )
    (out_dir / write.LINT_JSON).write_text(
        write.lint_json(doc, findings, [str(p.relative_to(out_dir)) for p in written]),
        encoding="utf-8",
    )
    (out_dir / write.LINT_MD).write_text(
        write.lint_markdown(doc, findings, origin), encoding="utf-8"
    )
    return result


def _prepare(out_dir: Path) -> None:
    """An empty directory, or a previous import's (whose contracts are removed first)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SourceError(str(out_dir), "", "the output is a file, not a directory")
    previous = out_dir / write.LINT_JSON
    if previous.exists():
        try:
            listed = json.loads(previous.read_text(encoding="utf-8")).get("contracts", [])
        except (OSError, ValueError, AttributeError):
            listed = []
        for name in listed:
            (out_dir / name).unlink(missing_ok=True)
    elif out_dir.exists() and any(out_dir.rglob("*.yaml")):
        raise SourceError(
            str(out_dir), "", "holds YAML files that no import wrote; choose an empty directory"
        )
    out_dir.mkdir(parents=True, exist_ok=True)


_PROBLEM_FILE = re.compile(r"^(.+?\.yaml): ")


def _reload(out_dir: Path, written: list[Path], findings: list[Finding]) -> set[Path]:
    """Load what was written; a contract the loader refuses is removed and said so."""
    dropped: set[Path] = set()
    for _ in range(3):
        try:
            load_contracts([out_dir])
            return dropped
        except ContractError as exc:
            for line in exc.problems:
                m = _PROBLEM_FILE.match(line)
                if not m:
                    continue
                bad = Path(m.group(1))
                if bad.exists():
                    bad.unlink()
                    dropped.add(bad)
                findings.append(
                    Finding(
                        "not-imported",
                        bad.stem,
                        "",
                        f"the contract does not load: {_cut(line[m.end() :])}",
                        severity="warning",
                        ref=f"L{len(findings) + 1}",
                    )
                )
    return dropped


def _cut(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
