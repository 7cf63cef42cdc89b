"""Drafts written as contract YAML (``DIR/<family>/<id>.yaml``), and the lint beside them.

A faulty example is kept verbatim with ``erratum: L<n>``, ``L<n>`` being its finding in
``DIR/LINT.md`` and ``DIR/lint.json``: the loader does not validate it and the mock never
serves it, as with the shipped catalogue's seed errata.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from contracts.importer.model import Document, Draft, DraftExample, Finding

LINT_MD = "LINT.md"
LINT_JSON = "lint.json"
SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}


class _Dumper(yaml.CSafeDumper):
    """No anchors (inlined schemas are shared objects), unicode kept, long lines."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """YAML text for a contract."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _example(ex: DraftExample, origin: str, key: str = "value") -> dict[str, Any]:
    out: dict[str, Any] = {"name": ex.name}
    source = ex.source or (f"{origin}#{ex.pointer}" if ex.pointer else origin)
    out["source"] = source
    if ex.summary:
        out["summary"] = ex.summary.strip()[:300]
    if ex.erratum is not None:
        out["erratum"] = ex.erratum.ref
    out[key] = ex.value
    return out


def contract(draft: Draft, origin: str) -> dict[str, Any]:
    """The contract mapping for one draft (``origin``: the document's file name)."""
    out: dict[str, Any] = {
        "id": draft.id,
        "family": draft.family,
        "vendor": draft.vendor,
        "summary": draft.summary,
    }
    if draft.description:
        out["description"] = draft.description
    notes = "; ".join(draft.notes)
    out["provenance"] = {
        "seeds": [],
        "path_source": f"imported:{origin}#{draft.pointer}",
        "path_confidence": "high",
        "reference": origin,
        **({"notes": notes} if notes else {}),
    }
    out["method"] = draft.method
    out["path"] = draft.path
    if draft.path_params:
        out["path_params"] = draft.path_params
    if draft.query is not None:
        out["query"] = draft.query
    out["auth"] = draft.auth
    if draft.match:
        out["match"] = draft.match
    if draft.priority:
        out["priority"] = draft.priority
    request: dict[str, Any] = {"content_type": draft.request_type}
    if draft.request_schema is not None and draft.request_type != "none":
        request["schema"] = draft.request_schema
    if draft.request_examples and draft.request_type != "none":
        request["examples"] = [_example(e, origin) for e in draft.request_examples]
    out["request"] = request
    response: dict[str, Any] = {"status": draft.status, "content_type": draft.response_type}
    if draft.response_schema is not None and draft.response_type == "application/json":
        response["schema"] = draft.response_schema
    response["render"] = draft.render
    if draft.response_examples:
        response["examples"] = [_example(e, origin) for e in draft.response_examples]
    out["response"] = response
    if draft.stream is not None:
        s = draft.stream
        stream: dict[str, Any] = {"framing": s.framing, "when": s.when}
        if s.asked_by:
            stream["asked_by"] = s.asked_by
        if s.framing == "sse-data" and s.event_schema is not None:
            stream["event_schema"] = s.event_schema
        if s.framing == "sse-named":
            stream["events"] = s.events
        stream["terminator"] = s.terminator
        stream["render"] = s.render
        stream["examples"] = [_example(e, origin, "events") for e in s.examples]
        out["stream"] = stream
    out["errors"] = {
        "envelope": draft.envelope,
        "documented": [
            {
                "status": e.status,
                **({"when": e.when} if e.when else {}),
                **({"example": e.example} if e.example is not None else {}),
            }
            for e in draft.errors
        ],
    }
    if not out["errors"]["documented"]:
        del out["errors"]["documented"]
    if draft.invariants:
        out["invariants"] = draft.invariants
    free = draft.method in ("GET", "DELETE")
    out["cost"] = {"paid": not free, "unit": "none" if free else "request"}
    errata = [e.erratum for e in _all_examples(draft) if e.erratum is not None]
    if errata:
        out["errata"] = [
            {
                "ref": f.ref,
                "seed_says": f.message,
                "contract_does": "Keeps the example verbatim as evidence, marked with this "
                "erratum: not validated, never served.",
                "why": f"lint rule {f.rule} at {f.where()} (see LINT.md)",
            }
            for f in dict.fromkeys(errata)
        ]
    return out


def _all_examples(draft: Draft) -> list[DraftExample]:
    stream = draft.stream.examples if draft.stream else []
    return [*draft.request_examples, *draft.response_examples, *stream]


def number(findings: list[Finding]) -> list[Finding]:
    """Findings in a stable order (severity, then place), numbered L1, L2..."""
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
    for i, f in enumerate(ordered, 1):
        f.ref = f"L{i}"
    return ordered


def write_contracts(drafts: list[Draft], out_dir: Path, origin: str) -> list[Path]:
    """One YAML file per draft under ``out_dir/<family>/``; the files written."""
    written: list[Path] = []
    for draft in drafts:
        path = out_dir / draft.family / f"{draft.id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        head = f"# Imported by relaykit from {origin} ({draft.method} {draft.path}).\n"
        path.write_text(head + dump(contract(draft, origin)), encoding="utf-8")
        written.append(path)
    return written


def copy_shipped(files: list[str], out_dir: Path) -> list[Path]:
    """Shipped contract files copied as they are (``--keep-shipped``)."""
    written = []
    for name in dict.fromkeys(files):
        src = Path(name)
        dest = out_dir / src.parent.name / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        written.append(dest)
    return written


def lint_json(doc: Document, findings: list[Finding], files: list[str]) -> str:
    """lint.json: the document, the counts per rule, every finding, the files written."""
    data = {
        "document": doc.file,
        "format": f"{doc.format} {doc.version}".strip(),
        "title": doc.title,
        "operations": len(doc.drafts),
        "counts": dict(Counter(f.rule for f in findings)),
        "findings": [f.to_json() for f in findings],
        "contracts": sorted(files),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def lint_markdown(doc: Document, findings: list[Finding], origin: str) -> str:
    """LINT.md: the findings as a table, in the manner of the shipped errata."""
    lines = [
        f"# Lint of {origin}",
        "",
        f"{doc.format} {doc.version}".strip()
        + (f", {doc.title}" if doc.title else "")
        + f": {len(doc.drafts)} operations, {len(findings)} findings"
        + (
            ""
            if not findings
            else " ("
            + ", ".join(
                f"{n} {rule}" for rule, n in Counter(f.rule for f in findings).most_common()
            )
            + ")"
        )
        + ".",
        "",
        "An example marked `erratum: L<n>` in a contract is kept verbatim as evidence of the "
        "finding L<n>: it is not validated and the mock never serves it.",
        "",
    ]
    if findings:
        lines += [
            "| ref | rule | severity | operation | where | what |",
            "|---|---|---|---|---|---|",
        ]
        for f in findings:
            cells = [f.ref, f.rule, f.severity, f.operation or "-", f"`{f.where()}`", f.message]
            lines.append(
                "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
            )
    return "\n".join(lines) + "\n"


def lint_text(findings: list[Finding], origin: str) -> list[str]:
    """The findings as console lines: ``origin:/pointer (line n): L3 rule: message``."""
    return [
        f"{origin}:{f.where()}: {f.ref} {f.rule}: {f.operation + ': ' if f.operation else ''}"
        f"{f.message}"
        for f in findings
    ]
