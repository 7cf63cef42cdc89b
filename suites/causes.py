"""One cause, one line: the failing findings that share a cause, grouped; one defect that fails
two checks on the same answer, marked once.

A *cause* is a check id and a kind of answer. The kind is the finding's message with what varies
from request to request replaced by placeholders (quoted values, URLs and paths, model names and
ids, numbers; a 3-digit HTTP status is kept), so a 400 to every wrong key is one cause of 39
operations, while a 400 and a 500 to a wrong key stay two causes. ``cause_key`` is the one place
that says what a cause is: a judge that knows better could hand its own key there.

A *consequence* is a failure that follows from another failure on the same request (a usage chunk
that carries a choice fails ``sse.usage_chunk``, and ``sse.finish_reason`` because deltas seem to
continue after the finish). ``mark_consequences`` sets ``consequence_of`` on such findings, from
the ``CONSEQUENCES`` table; ``group_causes`` then reports the root once, saying which checks it
also fails, and the exit code and the score count the root only (suites/severity.py).

Pure functions over findings: the run record computes its causes with them (``RunRecord.causes``)
and every report reads them from there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from suites.findings import Finding, Outcome
from suites.severity import Severity, severity_of

FAILING = (Outcome.FAIL, Outcome.ERROR)
KEY_LIMIT = 300
"""Characters of a normalised message kept as the cause key."""

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>)]+", re.I)
_QUOTED = re.compile(r"""(?<!\w)(?:'[^'\n]*'|"[^"\n]*"|`[^`\n]*`)(?!\w)""")
_MODEL_ARG = re.compile(r"\b(model\s*[=:]\s*)[^\s,;)]+", re.I)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*(?:[-.:][A-Za-z0-9_]+)+\b")
"""Hyphenated or dotted words; those with a digit are model names, ids or dates
(gpt-4o-mini, claude-3-5-sonnet-20241022, chatcmpl-9x2k...); words without one are kept
(chat.completion.chunk, sse.usage_chunk)."""
_ID = re.compile(r"\b(?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{12,}\b")
_PATH = re.compile(r"(?<![\w.])/[\w.{}~%@-]+(?:/[\w.{}~%@-]*)*")
_NUMBER = re.compile(r"(?<!\w)\d+(?:\.\d+)?(?!\w)")
_STATUS = re.compile(r"[1-5]\d\d")


def normalise(message: str, models: Iterable[str] = ()) -> str:
    """The kind of answer a message describes: what varies per request replaced by
    ``<url>``, ``<v>`` (quoted values), ``<model>``, ``<id>``, ``<name>``, ``<path>``, ``<n>``."""
    text = _URL.sub("<url>", message)
    text = _QUOTED.sub("<v>", text)
    text = _PATH.sub("<path>", text)
    text = _MODEL_ARG.sub(r"\1<model>", text)
    for model in sorted({m for m in models if m}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(model)}(?![\w-])", "<model>", text)
    text = _UUID.sub("<id>", text)
    text = _NAME.sub(lambda m: "<name>" if any(c.isdigit() for c in m[0]) else m[0], text)
    text = _ID.sub("<id>", text)
    text = _NUMBER.sub(lambda m: m[0] if _STATUS.fullmatch(m[0]) else "<n>", text)
    return " ".join(text.split())[:KEY_LIMIT]


def cause_key(finding: Finding, models: Iterable[str] = ()) -> str:
    """What makes two failing findings one cause, besides their check id, outcome and severity."""
    return normalise(finding.message, models)


# --- consequences: one defect, two checks -----------------------------------------------------


def matches(check_id: str, pattern: str) -> bool:
    """True when ``check_id`` is ``pattern``, or starts with it when it ends with a dot."""
    return check_id == pattern or (pattern.endswith(".") and check_id.startswith(pattern))


@dataclass(frozen=True, slots=True)
class Consequence:
    """A failure of ``check`` on the same request as a failure of one of ``roots`` is one defect
    when ``applies(consequence, root)``; a check id, or a prefix ending with a dot, each."""

    check: str
    roots: tuple[str, ...]
    why: str
    applies: Callable[[Finding, Finding], bool]


USAGE_WITH_CHOICE = "the usage chunk must have choices: []"
"""suites/chat_stream.py's message for a usage chunk that carries a choice."""
NO_USAGE_CHUNK = "include_usage asks for one usage chunk"
NOT_JSON = "the body is not JSON"
"""suites/judges.py's response.schema message for a success body that does not parse (the
parser's reason may follow in brackets)."""
NOT_JSON_TAIL = "body is not JSON"
"""errors.envelope's message for an error body that does not parse."""
_AFTER_FINISH = re.compile(r"deltas continue after its finish_reason|has 2 non-null finish_reason")


def _status(finding: Finding) -> int:
    status = (finding.response or {}).get("status")
    return status if isinstance(status, int) else 0


def _content_type(finding: Finding) -> str:
    headers = (finding.response or {}).get("headers") or {}
    return str(next((v for k, v in headers.items() if k.lower() == "content-type"), ""))


def _usage_chunk_with_choice(c: Finding, r: Finding) -> bool:
    return r.message.startswith(USAGE_WITH_CHOICE) and bool(_AFTER_FINISH.search(c.message))


def _no_usage_chunk(c: Finding, r: Finding) -> bool:
    return r.message.startswith(NO_USAGE_CHUNK) and "no usage" in c.message


def _crash_page(c: Finding, r: Finding) -> bool:
    return _status(r) >= 500 and NOT_JSON_TAIL in c.message


def _not_json_at_all(c: Finding, r: Finding) -> bool:
    return c.message.startswith(NOT_JSON) and "json" not in _content_type(r).lower()


def _nothing_to_read(c: Finding, r: Finding) -> bool:
    return r.message.startswith(NOT_JSON)


CONSEQUENCES: tuple[Consequence, ...] = (
    Consequence(
        "sse.finish_reason",
        ("sse.usage_chunk",),
        "a usage chunk that carries a choice makes that choice's deltas go on after its finish",
        _usage_chunk_with_choice,
    ),
    Consequence(
        "invariant.usage_total",
        ("sse.usage_chunk",),
        "a stream without its usage chunk has no usage to add up",
        _no_usage_chunk,
    ),
    Consequence(
        "errors.envelope",
        ("negative.", "auth."),
        "a 5xx that is not JSON is a crash page: the wrong status and the missing envelope are "
        "one failure to answer",
        _crash_page,
    ),
    Consequence(
        "response.schema",
        ("response.content_type",),
        "an answer that is not JSON at all fails its content type and its schema",
        _not_json_at_all,
    ),
    Consequence(
        "invariant.",
        ("response.schema",),
        "the invariants read the JSON body: when there is none, their failures are that one",
        _nothing_to_read,
    ),
)
"""Every pair of checks that one defect fails together; nothing else is ever marked."""


def _request(finding: Finding) -> tuple[str, str, str]:
    request = finding.request or {}
    body = request.get("body")
    text = body if isinstance(body, str) else json.dumps(body, sort_keys=True, default=str)
    return str(request.get("method", "")), str(request.get("url", "")), text


def same_request(a: Finding, b: Finding) -> bool:
    """True when two findings judge the same exchange: same operation, same request, and the
    same source (an error body judged apart names its request's check: ``negative:auth.no_key``)."""
    if a.operation_id != b.operation_id or _request(a) != _request(b):
        return False
    return (
        a.source == b.source
        or a.source == f"{b.source}:{b.check_id}"
        or (b.source == f"{a.source}:{a.check_id}")
    )


def mark_consequences(findings: list[Finding]) -> list[Finding]:
    """Set ``consequence_of`` on each failure that follows from another failure on the same
    request (per ``CONSEQUENCES``); the findings of one operation, returned for chaining."""
    failed = [f for f in findings if f.outcome is Outcome.FAIL]
    for c in failed:
        for rule in CONSEQUENCES:
            if not matches(c.check_id, rule.check):
                continue
            root = next(
                (
                    r
                    for r in failed
                    if r is not c and any(matches(r.check_id, p) for p in rule.roots)
                    and same_request(c, r) and rule.applies(c, r)
                ),
                None,
            )  # fmt: skip
            if root is not None:
                c.consequence_of = root.check_id
                break
    return findings


# --- causes -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Cause:
    """Failing findings of one check that got the same kind of answer, on every operation hit."""

    check_id: str
    outcome: Outcome
    severity: Severity
    key: str
    """The normalised message every member shares."""
    lead: Finding
    """The first finding of the cause: the evidence a reader sees."""
    operations: list[str] = field(default_factory=list)
    requests: int = 0
    also_fails: list[str] = field(default_factory=list)
    """Checks its findings also fail on the same answers, as consequences of this one."""
    members: list[Finding] = field(default_factory=list, repr=False)
    """Its findings, and the consequences folded into it (not written to the record)."""

    @property
    def message(self) -> str:
        """The lead finding's message, as the relay's answer made it."""
        return self.lead.message

    @property
    def counts(self) -> bool:
        """True when the cause fails the run by default: an error, or breaks-clients."""
        return self.outcome is Outcome.ERROR or self.severity is Severity.BREAKS_CLIENTS

    @property
    def label(self) -> str:
        """``error`` for errors, else the severity."""
        return "error" if self.outcome is Outcome.ERROR else self.severity.value

    def where(self, shown: int = 3) -> str:
        """``a, b, c and 36 more``."""
        ops = self.operations
        more = f" and {len(ops) - shown} more" if len(ops) > shown else ""
        return ", ".join(ops[:shown]) + more

    def also_line(self) -> str:
        """``also fails sse.finish_reason on the same answers``, or empty."""
        if not self.also_fails:
            return ""
        return f"also fails {', '.join(self.also_fails)} on the same answers"

    def to_json(self) -> dict[str, Any]:
        """The record's form: the lead evidence by reference (operation, source, request)."""
        request = self.lead.request or {}
        return {
            "check_id": self.check_id,
            "outcome": self.outcome.value,
            "severity": self.severity.value,
            "key": self.key,
            "message": self.message,
            "operations": list(self.operations),
            "requests": self.requests,
            "also_fails": list(self.also_fails),
            "lead": {
                "operation_id": self.lead.operation_id,
                "source": self.lead.source,
                "request": f"{request.get('method', '')} {request.get('url', '')}".strip(),
                "status": (self.lead.response or {}).get("status"),
            },
        }


def group_causes(
    findings: Iterable[Finding],
    models: Iterable[str] = (),
    key: Callable[[Finding, Iterable[str]], str] = cause_key,
) -> list[Cause]:
    """The causes of the failing and erroring findings: errors and breaks-clients first, then
    the most operations, then the most requests. A marked consequence joins the cause of its
    root (followed down a chain: an HTML page fails content type, then schema, then invariants)."""
    models = tuple(models)
    failing = [f for f in findings if f.outcome in FAILING]
    by_check: dict[tuple[str, str], list[Finding]] = {}
    for f in failing:
        by_check.setdefault((f.operation_id, f.check_id), []).append(f)
    root_of = {id(c): r for c in failing if (r := _root(c, by_check)) is not None}
    causes: dict[tuple[str, Outcome, Severity, str], Cause] = {}
    owner: dict[int, Cause] = {}

    def own(f: Finding) -> None:
        severity = severity_of(f)
        k = key(f, models)
        cause = causes.setdefault(
            (f.check_id, f.outcome, severity, k), Cause(f.check_id, f.outcome, severity, k, f)
        )
        cause.requests += 1
        cause.members.append(f)
        if f.operation_id not in cause.operations:
            cause.operations.append(f.operation_id)
        owner[id(f)] = cause

    for f in failing:
        if id(f) not in root_of:
            own(f)
    for f in failing:
        if id(f) not in root_of:
            continue
        top, seen = f, set()
        while id(top) in root_of and id(top) not in seen:
            seen.add(id(top))
            top = root_of[id(top)]
        if id(top) not in owner:  # a loop of marks: nothing to fold into, it stands alone
            own(f)
        else:
            root = owner[id(top)]
            root.members.append(f)
            if f.check_id not in root.also_fails:
                root.also_fails.append(f.check_id)
    order = {id(c): i for i, c in enumerate(causes.values())}
    return sorted(
        causes.values(),
        key=lambda c: (not c.counts, -len(c.operations), -c.requests, order[id(c)]),
    )


def _root(finding: Finding, by_check: dict[tuple[str, str], list[Finding]]) -> Finding | None:
    """The failure a marked consequence follows from, on the same request; None if unmarked
    or if the root is not among the failures (the failure then stands as its own cause)."""
    if not finding.consequence_of or finding.outcome is not Outcome.FAIL:
        return None
    candidates = by_check.get((finding.operation_id, finding.consequence_of), [])
    return next(
        (
            r
            for r in candidates
            if r is not finding and r.outcome is Outcome.FAIL and same_request(finding, r)
        ),
        None,
    )
