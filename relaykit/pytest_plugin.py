"""The pytest plugin: ``pytest --relaykit-base-url URL`` runs the checks as test items.

One item per operation and planned check (``relaykit[<op id>:<check>]``), failing when any of
its findings failed or errored, skipped when it could not run (budget, unsupported) or could not
decide (inconclusive: never a pass). The run starts and ends as ``relaykit check``'s does
(``relaykit/runs.py``: the profile, the key rules, discovery, the record, the run directory):
the same relay gives the same verdicts under either front-end. Under pytest-xdist the
controller asks discovery once and hands it to the workers; each worker checks its share with
its part of the budget, items of one operation stay on one worker (``--dist loadgroup``), and
the controller merges the workers' findings into one run record. Without the option the plugin
does nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contracts.model import ContractSet, Operation
from relaykit import runs
from suites.discovery import Discovery
from suites.findings import Finding, Outcome, combine
from suites.plan import Plan, PlannedCheck
from suites.profile import Budget, Profile
from suites.record import OperationInfo
from suites.severity import severity_of

# The plugin loads in every pytest run where relaykit is installed: the engine (runner, plan,
# contracts) is imported only once --relaykit-base-url turns it on.
if TYPE_CHECKING:
    from suites.runner import RunSession

FINDINGS = "relaykit_findings"
OPERATION = "relaykit_operation"
SPENT = "relaykit_spent"
DISCOVERY = "relaykit_discovery"
"""The workerinput key the controller's discovery travels to the xdist workers under."""
_SESSION = pytest.StashKey["RunSession"]()
_STATE = pytest.StashKey["_State"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options, all under the ``relaykit`` group."""
    group = parser.getgroup("relaykit", "relaykit conformance checks")
    group.addoption("--relaykit-base-url", help="Check this relay (enables the plugin).")
    group.addoption("--relaykit-profile", help="Target profile (YAML).")
    group.addoption("--relaykit-only", action="append", default=[], help="Family or op id.")
    group.addoption("--relaykit-seed", type=int, default=0, help="Property-based seed.")
    group.addoption("--relaykit-property-examples", type=int, default=3)
    group.addoption("--relaykit-report-dir", default="reports", help="Where the run is written.")
    group.addoption("--relaykit-run-name", default=None, help="The run directory's name.")
    group.addoption(
        "--relaykit-no-discovery",
        action="store_true",
        help="Do not first ask the relay which models and routes it offers.",
    )


@dataclasses.dataclass
class _State:
    contracts: ContractSet
    profile: Profile
    """The whole run's profile (a worker sends with its share of the budget: ``worker``)."""
    worker: Profile
    base_url: str
    key: str | None
    scope: list[Operation]
    plan: Plan
    started: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    clock: float = dataclasses.field(default_factory=time.monotonic)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    operations: dict[str, OperationInfo] = dataclasses.field(default_factory=dict)
    spent: dict[str, int] = dataclasses.field(default_factory=dict)


def pytest_configure(config: pytest.Config) -> None:
    """Start the run as ``relaykit check`` does: the profile, the key (a relay is never checked
    without it), discovery (on the controller; workers get its answer) and the plan."""
    url = config.getoption("relaykit_base_url")
    if not url:
        return
    from contracts.loader import default_contracts
    from suites.plan import make_plan, selected

    try:
        profile, _ = runs.load_target(config.getoption("relaykit_profile"), url)
        key = runs.run_key(profile, url)
    except runs.TargetError as exc:
        raise pytest.UsageError(str(exc)) from None
    contracts = default_contracts()
    only = config.getoption("relaykit_only")
    scope = selected(contracts, profile, only)
    discovery = _discovery(config, contracts, profile, url, key, scope)
    examples = config.getoption("relaykit_property_examples")
    plan = make_plan(contracts, profile, only, examples, discovery)
    worker = _share(
        profile, discovery, int(getattr(config, "workerinput", {}).get("workercount", 1))
    )
    config.stash[_STATE] = _State(contracts, profile, worker, url, key, scope, plan)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_HandOver(discovery), "relaykit-handover")


def _discovery(
    config: pytest.Config,
    contracts: ContractSet,
    profile: Profile,
    url: str,
    key: str | None,
    scope: list[Operation],
) -> Discovery | None:
    """The controller asks; a worker reads what the controller handed it."""
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        sent = worker_input.get(DISCOVERY)
        return Discovery.from_json(json.loads(sent)) if sent else None
    if config.getoption("relaykit_no_discovery"):
        return None
    return runs.discover(contracts, profile, url, key, scope)


def _share(profile: Profile, discovery: Discovery | None, workers: int) -> Profile:
    """The budget one worker may spend: what discovery left, split between the workers (so
    that together they stay within the caps)."""
    b = profile.budget
    left = Budget(max(0, b.requests - (discovery.requests if discovery else 0)), b.tokens,
                  b.paid_media_calls)  # fmt: skip
    if workers <= 1:
        return dataclasses.replace(profile, budget=left)
    share = Budget(
        *(math.ceil(v / workers) for v in (left.requests, left.tokens, left.paid_media_calls))
    )
    return dataclasses.replace(profile, budget=share)


class _HandOver:
    """xdist's hook, registered only where xdist is: the controller's discovery goes to each
    worker with its start-up input (a worker sends no discovery of its own)."""

    def __init__(self, discovery: Discovery | None) -> None:
        self.discovery = discovery

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[DISCOVERY] = (
            json.dumps(self.discovery.to_json()) if self.discovery is not None else ""
        )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add one item per operation and planned check, in plan order."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    from suites.plan import in_run_order

    checks = in_run_order(state.plan.checks)
    by_op: dict[str, list[PlannedCheck]] = {}
    for c in checks:
        by_op.setdefault(c.operation_id, []).append(c)
    for op_id, planned in by_op.items():
        for c in planned:
            item = RelaykitItem.from_parent(
                session, name=f"relaykit[{op_id}:{c.check_id}]", planned=c
            )
            item.add_marker(pytest.mark.xdist_group(op_id))
            items.append(item)


class RelaykitItem(pytest.Item):
    """One planned check of one operation."""

    def __init__(self, *, planned: PlannedCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned

    def _session(self) -> RunSession:
        config = self.config
        if _SESSION not in config.stash:
            from suites.runner import RunSession

            state = config.stash[_STATE]
            examples = config.getoption("relaykit_property_examples")
            seed = config.getoption("relaykit_seed")
            config.stash[_SESSION] = RunSession.for_plan(
                state.contracts, state.worker, state.plan, state.base_url, state.key, seed,
                examples, charge_discovery=False,
            )  # fmt: skip
        return config.stash[_SESSION]

    def runtest(self) -> None:
        """Run the check, attach its findings for the merged record, then judge them."""
        session = self._session()
        op = session.contracts.get(self.planned.operation_id)
        before = session.transport.spend.to_json()
        findings = session.check(op, [self.planned])
        after = session.transport.spend.to_json()
        self.user_properties.append((FINDINGS, json.dumps([f.to_json() for f in findings])))
        self.user_properties.append(
            (OPERATION, json.dumps(_info(session, op, self.config.stash[_STATE].plan)))
        )
        self.user_properties.append((SPENT, json.dumps({k: after[k] - before[k] for k in after})))
        _judge(findings)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "relaykit", None, self.name


def _info(session: RunSession, op: Operation, plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(session.operation_info(op, take=True, plan=plan))


def _judge(findings: list[Finding]) -> None:
    per_check: dict[str, list[Outcome]] = {}
    for f in findings:
        per_check.setdefault(f.check_id, []).append(f.outcome)
    verdicts = {check: combine(outcomes) for check, outcomes in per_check.items()}
    bad = [f for f in findings if f.outcome in (Outcome.FAIL, Outcome.ERROR)]
    if bad:
        pytest.fail("\n".join(_failure_line(f) for f in bad[:20]), pytrace=False)
    if Outcome.PASS not in verdicts.values():
        reasons = sorted({f"{f.outcome.value}: {f.message}" for f in findings})
        pytest.skip("; ".join(reasons)[:500] or "nothing ran")


def _failure_line(f: Finding) -> str:
    """``fail sse.terminator [breaks-clients] (example:stream): no data: [DONE]``; an item of a
    deviates check fails too (pytest has no softer verdict) but says so."""
    if f.outcome is Outcome.ERROR:
        label = "error"
    elif f.consequence_of:
        label = f"consequence of {f.consequence_of}"
    else:
        label = severity_of(f).value
    return f"{f.outcome.value} {f.check_id} [{label}] ({f.source}): {f.message}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect findings from every item's report (workers' reports included, under xdist)."""
    state = _ACTIVE[0] if _ACTIVE else None
    if state is None or report.when != "call":
        return
    for name, value in report.user_properties:
        data = json.loads(str(value))
        if name == FINDINGS:
            state.findings += [Finding.from_json(f) for f in data]
        elif name == OPERATION:
            op_id = report.nodeid.split("[", 1)[-1].split(":", 1)[0]
            info = OperationInfo(**data)
            known = state.operations.get(op_id)
            if known is not None:
                info.latency = known.latency + info.latency
                info.fields = sorted(set(known.fields) | set(info.fields))
            state.operations[op_id] = info
        elif name == SPENT:
            for k, v in data.items():
                state.spent[k] = state.spent.get(k, 0) + v


_ACTIVE: list[_State] = []
"""The controller's state, for the report hook (which gets no config)."""


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember this process's state so the report hook can reach it."""
    state = session.config.stash.get(_STATE, None)
    _ACTIVE[:] = [state] if state is not None else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On the controller (or without xdist), write the one merged run record, as ``relaykit
    check`` writes its own."""
    config = session.config
    state = config.stash.get(_STATE, None)
    if _SESSION in config.stash:
        config.stash[_SESSION].close()
    if state is None or hasattr(config, "workerinput"):
        return
    from suites.redact import Redactor
    from suites.runner import assemble, run_block

    name = config.getoption("relaykit_run_name")
    examples = config.getoption("relaykit_property_examples")
    front = runs.run_block(
        state.base_url, name, config.getoption("relaykit_only"), examples, state.scope, "pytest"
    )
    block = run_block(
        Redactor([state.key]).url(state.base_url), state.profile,
        config.getoption("relaykit_seed"), state.started, time.monotonic() - state.clock,
        extra=front,
    )  # fmt: skip
    spent = dict(state.spent)
    if state.plan.discovery is not None:  # sent by the controller, before any item
        spent["requests"] = spent.get("requests", 0) + state.plan.discovery.requests
    record = assemble(block, state.profile, state.plan, state.operations, state.findings, spent)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    try:
        written = runs.write_run(
            record, Path(config.getoption("relaykit_report_dir")), name, state.key
        )
        line = f"relaykit run record: {written}"
    except runs.NotWritten as exc:
        line = f"relaykit: {exc}"
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    if reporter is not None:
        reporter.write_line(line)
