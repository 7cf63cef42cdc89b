"""Run a plan against a relay and produce the run record.

Operations are checked concurrently (``limits.concurrency``; the rate limit holds across them),
each operation's planned checks in order: examples first (a 404 there marks the operation
unsupported and skips the rest), then the negative requests, then the property-based ones.
Whatever goes wrong in the harness becomes an ERROR finding; a budget cap reached mid-run
becomes a SKIP, and so does every check left once the run stops sending (its deadline,
``limits.run_seconds``, or a relay not answering: suites/guard.py); nothing here raises past
``run``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from contracts.model import ContractSet, Operation
from contracts.paths import PathTemplate, template
from contracts.validation import Validators
from suites.causes import mark_consequences
from suites.context import CheckContext
from suites.examples import check_examples
from suites.findings import Finding, Outcome
from suites.model_choice import with_choices
from suites.negative import check_negative
from suites.plan import Plan, PlannedCheck, in_run_order
from suites.profile import Profile
from suites.properties import property_probes
from suites.record import OperationInfo, RunRecord
from suites.responses import Unsupported, send_and_judge
from suites.schemathesis_check import check_schemathesis
from suites.streams import StreamLimits
from suites.transport import BudgetExceeded, Exchange, Transport

Progress = Callable[[Operation, list[Finding]], None]
MAX_FIELDS = 400


class RunSession:
    """The live part of a run: one transport, the check context, latency and fields seen.

    ``run`` drives one for a whole plan; the pytest plugin drives one per worker, an item at a
    time, and merges what the workers saw into one record.
    """

    def __init__(
        self,
        contracts: ContractSet,
        profile: Profile,
        base_url: str,
        key: str | None,
        seed: int = 0,
        property_examples: int = 3,
    ) -> None:
        self.contracts = contracts
        self.profile = profile
        self.base_url = base_url
        self.property_examples = property_examples
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()
        limits = profile.limits
        self.transport = Transport(base_url, key, limits, profile.budget, profile.path_map)
        self.ctx = CheckContext(
            contracts,
            profile,
            self.transport,
            Validators(contracts.components),
            StreamLimits(seconds=limits.stream_seconds, stall=limits.stream_stall),
            seed,
        )
        self.collector = _Collector(self.transport)
        self.transport.observer = self.collector.observe

    @classmethod
    def for_plan(
        cls,
        contracts: ContractSet,
        profile: Profile,
        plan: Plan,
        base_url: str,
        key: str | None,
        seed: int = 0,
        property_examples: int = 3,
        charge_discovery: bool = True,
    ) -> RunSession:
        """A session that sends what ``plan`` chose: its model substitutions, its not-offered
        and unlisted operations, and (``charge_discovery``) discovery's requests charged to the
        budget first (the plugin's workers get a budget discovery was already taken from)."""
        session = cls(
            contracts, with_choices(profile, plan.offers), base_url, key, seed, property_examples
        )
        if plan.discovery is not None and charge_discovery:
            session.transport.spend.charge(plan.discovery.requests)
        for op_id, offer in plan.offers.items():
            if offer.not_offered:
                session.ctx.unoffered[op_id] = offer.not_offered
            if offer.unlisted:
                session.ctx.unlisted[op_id] = offer.unlisted
        return session

    def check(self, op: Operation, planned: list[PlannedCheck]) -> list[Finding]:
        """Run the planned checks of one operation (in this thread); never raises."""
        self.collector.current.op = op
        try:
            findings = check_operation(self.ctx, op, planned, self.property_examples)
        finally:
            self.collector.current.op = None
        return mark_consequences(findings)  # one defect that fails two checks is one cause

    def operation_info(
        self, op: Operation, take: bool = False, plan: Plan | None = None
    ) -> OperationInfo:
        """What the record keeps of an operation: where it is, its latencies, its fields,
        whether the relay offers it and with which model; ``take`` clears what was collected
        so far (the plugin reports it item by item)."""
        offer = plan.offers.get(op.id) if plan is not None else None
        info = OperationInfo(
            op.family,
            op.method,
            op.path,
            op.summary,
            list(self.collector.latency.get(op.id, [])),
            sorted(self.collector.fields.get(op.id, set())),
            offered=self.ctx.unoffered.get(op.id, ""),
            model=offer.model if offer else "",
            model_note=offer.note if offer else "",
        )
        if take:
            self.collector.latency.pop(op.id, None)
            self.collector.fields.pop(op.id, None)
        return info

    def run_info(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The record's ``run`` block: times, target (redacted), profile, seed."""
        return run_block(
            self.transport.redactor.url(self.base_url),
            self.profile,
            self.ctx.seed,
            self.started,
            time.monotonic() - self._clock,
            self.transport.stopped(),
            extra,
        )

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()


def run(
    contracts: ContractSet,
    profile: Profile,
    plan: Plan,
    base_url: str,
    key: str | None,
    *,
    seed: int = 0,
    property_examples: int = 3,
    progress: Progress | None = None,
    run_info: dict[str, Any] | None = None,
) -> RunRecord:
    """Execute every planned check; the record holds a finding for each (op, check) at least."""
    session = RunSession.for_plan(contracts, profile, plan, base_url, key, seed, property_examples)
    by_op: dict[str, list[PlannedCheck]] = {}
    for planned in plan.checks:
        by_op.setdefault(planned.operation_id, []).append(planned)
    results: dict[str, list[Finding]] = {}
    lock = threading.Lock()

    def one(op_id: str) -> None:
        op = contracts.get(op_id)
        findings = session.check(op, by_op[op_id])
        with lock:
            results[op_id] = findings
            if progress is not None:
                progress(op, findings)

    try:
        with ThreadPoolExecutor(max_workers=max(1, profile.limits.concurrency)) as pool:
            list(pool.map(one, by_op))
    finally:
        session.close()
    return assemble(
        session.run_info(run_info),
        profile,
        plan,
        {op_id: session.operation_info(contracts.get(op_id), plan=plan) for op_id in by_op},
        [f for op_id in by_op for f in results.get(op_id, [])],
        session.transport.spend.to_json(),
    )


def run_block(
    shown_url: str,
    profile: Profile,
    seed: int,
    started: datetime,
    seconds: float,
    stopped: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record's ``run`` block: what the front-end adds (``extra``), times, the target as
    shown (redacted), profile and seed."""
    return {
        **(extra or {}),
        **({"stopped": stopped} if stopped else {}),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "base_url": shown_url,
        "profile": profile.name,
        "seed": seed,
    }


def assemble(
    run_block: dict[str, Any],
    profile: Profile,
    plan: Plan | None,
    operations: dict[str, OperationInfo],
    findings: list[Finding],
    spent: dict[str, int],
) -> RunRecord:
    """The run record, the same way for ``relaykit check`` and the pytest plugin (which merges
    its workers' operations, findings and spending first)."""
    record = RunRecord(
        run=run_block,
        budget=budget_of(profile),
        spent=spent,
        operations=operations,
        findings=findings,
        tool=tool_version(),
    )
    if plan is not None and plan.discovery is not None:
        record.discovery = plan.discovery.to_json()
    return record


def check_operation(
    ctx: CheckContext, op: Operation, planned: list[PlannedCheck], property_examples: int
) -> list[Finding]:
    """All planned checks of one operation, in order; never raises."""
    findings: list[Finding] = []
    ordered = in_run_order(planned)
    for i, check in enumerate(ordered):
        if check.skip:
            findings.append(ctx.finding(op.id, check.check_id, Outcome.SKIP, check.skip))
            continue
        stopped = ctx.transport.stopped()  # the run deadline, or a relay not answering
        if stopped:
            findings.append(ctx.finding(op.id, check.check_id, Outcome.SKIP, f"not run: {stopped}"))
            continue
        try:
            findings += _run_check(ctx, op, check.check_id, property_examples)
        except Unsupported as exc:
            ctx.unoffered.setdefault(op.id, str(exc))  # what needs its tasks is not sent
            findings.append(
                ctx.finding(op.id, check.check_id, Outcome.SKIP, str(exc), "", exc.exchange)
            )
            rest = ordered[i + 1 :]
            findings += [
                ctx.finding(op.id, c.check_id, Outcome.SKIP, c.skip or str(exc)) for c in rest
            ]
            break
        except BudgetExceeded as exc:
            findings.append(ctx.finding(op.id, check.check_id, Outcome.SKIP, str(exc)))
        except Exception as exc:  # a harness bug must not end the run: it is a finding
            message = f"harness error: {type(exc).__name__}: {exc}"
            findings.append(ctx.finding(op.id, check.check_id, Outcome.ERROR, message))
    return findings


def _run_check(
    ctx: CheckContext, op: Operation, check_id: str, property_examples: int
) -> list[Finding]:
    if check_id == "examples":
        return check_examples(ctx, op)
    if check_id == "negative":
        return check_negative(ctx, op)
    if check_id == "property":
        probes = property_probes(
            op, ctx.profile, ctx.validators, property_examples, ctx.seed, ctx.contracts.operations
        )
        if not probes:
            return [ctx.finding(op.id, "property", Outcome.SKIP, "nothing to vary")]
        findings: list[Finding] = []
        for probe in probes:
            try:
                findings += send_and_judge(ctx, probe)
            except BudgetExceeded as exc:
                findings.append(ctx.finding(op.id, "property", Outcome.SKIP, str(exc)))
                break
        return findings
    if check_id == "schemathesis":
        return check_schemathesis(ctx, op, property_examples)
    raise ValueError(f"unknown planned check {check_id!r}")


class _Current(threading.local):
    op: Operation | None = None


class _Collector:
    """Latency and response fields per operation, from every exchange on its own path."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.current = _Current()
        self.latency: dict[str, list[float]] = {}
        self.fields: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._templates: dict[str, PathTemplate] = {}

    def _template(self, op: Operation) -> PathTemplate:
        if op.id not in self._templates:
            self._templates[op.id] = template(self.transport.path_map.to_relay(op.path))
        return self._templates[op.id]

    def observe(self, exchange: Exchange) -> None:
        """Called by the transport after each answered request."""
        op = self.current.op
        if op is None or exchange.status is None:
            return
        path = urlsplit(exchange.request.get("url", "")).path
        base = urlsplit(self.transport.base_url).path.rstrip("/")
        if self._template(op).match(path.removeprefix(base)) is None:
            return
        # a list's items depend on what else ran meanwhile: its fields would drift run to run
        listing = op.task_role == "list"
        body = exchange.json() if 200 <= exchange.status < 300 and not listing else None
        with self._lock:
            self.latency.setdefault(op.id, []).append(exchange.elapsed)
            if body is not None:
                seen = self.fields.setdefault(op.id, set())
                if len(seen) < MAX_FIELDS:
                    seen.update(field_paths(body))


def field_paths(node: Any, prefix: str = "", depth: int = 0) -> Iterable[str]:
    """Dotted paths of the fields in a JSON document ('*' for array elements), bounded."""
    if depth > 6:
        return
    if isinstance(node, dict):
        for key, value in list(node.items())[:100]:
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from field_paths(value, path, depth + 1)
    elif isinstance(node, list):
        for value in node[:3]:
            yield from field_paths(value, f"{prefix}.*" if prefix else "*", depth + 1)


def budget_of(profile: Profile) -> dict[str, int]:
    b = profile.budget
    return {"requests": b.requests, "tokens": b.tokens, "paid_media_calls": b.paid_media_calls}


def tool_version() -> str:
    """``relaykit <version>`` for the record."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"relaykit {version('relaykit')}"
    except PackageNotFoundError:
        return "relaykit"
