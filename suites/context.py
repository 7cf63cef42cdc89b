"""What every check needs at hand: the contracts, the profile, the transport and the validators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.model import ContractSet
from contracts.validation import Validators
from suites.findings import Finding, Outcome
from suites.profile import Profile
from suites.streams import StreamLimits, StreamRecord
from suites.transport import Exchange, Transport

EVENT_EXCERPT = 300
"""Characters of each stream event's data kept in a finding's timeline."""
MAX_TIMELINE = 200
"""Events of a stream kept in a finding's timeline (the first ones)."""


@dataclass(slots=True)
class CheckContext:
    """Shared by all checks of a run; the transport is thread-safe, the rest read-only."""

    contracts: ContractSet
    profile: Profile
    transport: Transport
    validators: Validators
    stream_limits: StreamLimits
    seed: int = 0
    unoffered: dict[str, str] = field(default_factory=dict)
    """Operations the relay does not offer (by id, with the reason): nothing that needs one
    of them (a task from its submit) is sent."""
    unlisted: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per operation, documented models the relay does not list: their examples are skipped."""

    def finding(
        self,
        op_id: str,
        check_id: str,
        outcome: Outcome,
        message: str,
        source: str = "",
        exchange: Exchange | None = None,
        stream: StreamRecord | None = None,
    ) -> Finding:
        """A finding with the exchange's redacted evidence and timings attached."""
        finding = Finding(op_id, check_id, outcome, self.transport.redactor.text(message), source)
        if exchange is not None:
            finding.request = exchange.request
            finding.response = exchange.response_view(self.transport.redactor)
            finding.timings["elapsed"] = round(exchange.elapsed, 4)
            if exchange.retries:
                finding.timings["retries"] = exchange.retries
        if stream is not None:
            finding.events = timeline(stream, self.transport.redactor.text)
            finding.timings["headers"] = round(stream.headers_at, 4)
            if stream.ttfe is not None:
                finding.timings["ttfe"] = round(stream.ttfe, 4)
                finding.timings["elapsed"] = round(stream.arrivals[-1].at, 4)
        return finding


def timeline(stream: StreamRecord, scrub: Any = str) -> list[dict[str, Any]]:
    """The first events of a stream as the record keeps them: seconds, name, data excerpt."""
    return [
        {"at": round(a.at, 4), "event": a.event, "data": scrub(a.data[:EVENT_EXCERPT])}
        for a in stream.arrivals[:MAX_TIMELINE]
    ]
