"""Judge one exchange seen live (by the validating proxy) against its operation's contract.

The same check ids and judges as a run (suites/judges.py: content type, schema, envelope,
stream grammar, invariants with ``fetch=None``: a proxy downloads nothing, so URL invariants are
inconclusive); what differs is the traffic. A live request is anyone's,
so an error answer is fine when the operation documents it or its provider's envelope defines
it, and it is then judged against the envelope.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from suites import bounded, judges
from suites.context import timeline
from suites.findings import Finding, Outcome
from suites.probes import Probe
from suites.streams import StreamRecord


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """A response as the proxy saw it; ``stream`` is set for an event stream."""

    status: int
    content_type: str
    """Lower-case, without parameters."""
    content: bytes = b""
    stream: StreamRecord | None = None

    def json(self) -> Any:
        """The body parsed as JSON (bounded: suites/bounded.py), or None."""
        return bounded.json_or_none(self.content)


class LiveJudge:
    """Judges requests and answers of live traffic, one operation at a time."""

    def __init__(self, contracts: ContractSet, validators: Validators | None = None) -> None:
        self.contracts = contracts
        self.validators = validators or Validators(contracts.components)

    def request(self, op: Operation, view: Any, parsed: bool = True) -> list[Finding]:
        """``request.schema``: the body (its validation view) against the request schema."""
        schema = op.request.schema
        if schema is None:
            return [_f(op, "request.schema", Outcome.SKIP, "the contract gives no request schema")]
        if not parsed:
            kind = op.request.content_type
            return [_f(op, "request.schema", Outcome.FAIL, f"the body is not readable as {kind}")]
        if view is None:
            why = f"a {op.request.content_type} body is not validated"
            return [_f(op, "request.schema", Outcome.SKIP, why)]
        problems = self.validators.problems(schema, copy.deepcopy(view), limit=1)
        if problems:
            return [
                _f(op, "request.schema", Outcome.FAIL, f"the request breaks it at {problems[0]}")
            ]
        return [_f(op, "request.schema", Outcome.PASS, "the request matches")]

    def response(self, op: Operation, body: Any, answer: LiveAnswer) -> list[Finding]:
        """Status, then the envelope of an error or the content type, schema or stream grammar
        and the invariants of a success (``body`` is the parsed request body)."""
        findings = [self._status(op, answer.status)]
        if answer.status >= 400:
            envelopes = self.contracts.envelopes
            verdict = judges.error_envelope(
                op, envelopes, self.validators, answer.status, answer.json()
            )
            return [*findings, verdict]
        if answer.status != op.response.status:
            return findings
        probe = Probe(op, "live", body)
        if answer.stream is not None and op.stream is not None:
            got = answer.content_type
            return findings + judges.stream(probe, self.validators, got, answer.stream, None)
        if answer.stream is not None:  # a stream the operation does not stream
            expected = judges.expected_content_type(probe)
            return [*findings, judges.content_type(op, expected, answer.content_type)]
        return findings + judges.success(
            probe, self.validators, answer.content_type, answer.content, None, None
        )

    def _status(self, op: Operation, status: int) -> Finding:
        if status == op.response.status:
            return _f(op, "response.status", Outcome.PASS, f"answered {status} as documented")
        if any(e.status == status for e in op.errors.documented):
            return _f(op, "response.status", Outcome.PASS, f"{status}, an error the contract lists")
        envelope = self.contracts.envelopes.get(op.errors.envelope)
        if status >= 400 and envelope is not None and status in envelope.statuses:
            message = f"{status}, an error the {envelope.name} envelope defines"
            return _f(op, "response.status", Outcome.PASS, message)
        message = f"answered {status}, the contract says {op.response.status} or a documented error"
        return _f(op, "response.status", Outcome.FAIL, message)


def _f(op: Operation, check_id: str, outcome: Outcome, message: str) -> Finding:
    return Finding(op.id, check_id, outcome, message)


def violations(findings: Iterable[Finding]) -> list[str]:
    """The check ids that failed, sorted, each once."""
    return sorted({f.check_id for f in findings if f.outcome is Outcome.FAIL})


def with_evidence(
    findings: Iterable[Finding],
    source: str,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    stream: StreamRecord | None,
    scrub: Callable[[str], str],
) -> list[Finding]:
    """The findings with their source and the (already redacted) request and response set,
    and a stream's timeline on its ``sse.*`` findings; messages scrubbed."""
    out = []
    for f in findings:
        f.source = source
        f.message = scrub(f.message)
        f.request = request
        f.response = response
        if stream is not None and f.check_id.startswith("sse."):
            f.events = timeline(stream, scrub)
            f.timings["headers"] = round(stream.headers_at, 4)
            if stream.ttfe is not None:
                f.timings["ttfe"] = round(stream.ttfe, 4)
                f.timings["elapsed"] = round(stream.arrivals[-1].at, 4)
        out.append(f)
    return out
