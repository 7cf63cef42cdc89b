"""The pytest plugin: ``pytest --relaykit-base-url URL`` runs the checks as test items.

One item per operation and planned check (``relaykit[<op id>:<check>]``), failing when any of
its findings failed or errored, skipped when it could not run (budget, unsupported) or could not
decide (inconclusive: never a pass). Under pytest-xdist each worker checks its share with its
part of the budget, items of one operation stay on one worker (``--dist loadgroup``), and the
controller merges the workers' findings into one run record. Without the option the plugin does
nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contracts.model import ContractSet, Operation
from suites.findings import Finding, Outcome, combine
from suites.plan import PlannedCheck
from suites.profile import Budget, Profile, ProfileError, load_profile
from suites.record import OperationInfo, RunRecord
from suites.severity import severity_of

# The plugin loads in every pytest run where relaykit is installed: the engine (runner, plan,
# contracts) is imported only once --relaykit-base-url turns it on.
if TYPE_CHECKING:
    from suites.runner import RunSession

FINDINGS = "relaykit_findings"
OPERATION = "relaykit_operation"
SPENT = "relaykit_spent"
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


@dataclasses.dataclass
class _State:
    contracts: ContractSet
    profile: Profile
    base_url: str
    key: str | None
    findings: list[Finding] = dataclasses.field(default_factory=list)
    operations: dict[str, OperationInfo] = dataclasses.field(default_factory=dict)
    spent: dict[str, int] = dataclasses.field(default_factory=dict)


def pytest_configure(config: pytest.Config) -> None:
    """Read the profile once; refuse a bad one with its file and field."""
    url = config.getoption("relaykit_base_url")
    if not url:
        return
    path = config.getoption("relaykit_profile")
    try:
        profile = load_profile(Path(path)) if path else Profile()
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    if workers > 1:  # each worker gets its share of the caps: together they stay within them
        b = profile.budget
        share = Budget(
            *(math.ceil(v / workers) for v in (b.requests, b.tokens, b.paid_media_calls))
        )
        profile = dataclasses.replace(profile, budget=share)
    from contracts.loader import default_contracts

    config.stash[_STATE] = _State(default_contracts(), profile, url, profile.api_key())


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add one item per operation and planned check, in plan order."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    from suites.plan import in_run_order, make_plan

    only = config.getoption("relaykit_only")
    examples = config.getoption("relaykit_property_examples")
    plan = make_plan(state.contracts, _full_profile(config, state), only, examples)
    checks = in_run_order(plan.checks)
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


def _full_profile(config: pytest.Config, state: _State) -> Profile:
    path = config.getoption("relaykit_profile")
    return load_profile(Path(path)) if path else Profile()


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
            config.stash[_SESSION] = RunSession(
                state.contracts, state.profile, state.base_url, state.key, seed, examples
            )
        return config.stash[_SESSION]

    def runtest(self) -> None:
        """Run the check, attach its findings for the merged record, then judge them."""
        session = self._session()
        op = session.contracts.get(self.planned.operation_id)
        before = session.transport.spend.to_json()
        findings = session.check(op, [self.planned])
        after = session.transport.spend.to_json()
        self.user_properties.append((FINDINGS, json.dumps([f.to_json() for f in findings])))
        self.user_properties.append((OPERATION, json.dumps(_info(session, op))))
        self.user_properties.append((SPENT, json.dumps({k: after[k] - before[k] for k in after})))
        _judge(findings)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "relaykit", None, self.name


def _info(session: RunSession, op: Operation) -> dict[str, Any]:
    return dataclasses.asdict(session.operation_info(op, take=True))


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
    """On the controller (or without xdist), write the one merged run record."""
    config = session.config
    state = config.stash.get(_STATE, None)
    if _SESSION in config.stash:
        config.stash[_SESSION].close()
    if state is None or hasattr(config, "workerinput"):
        return
    from suites.plan import selected
    from suites.runner import budget_of, tool_version
    from suites.score import documented_counts

    only = config.getoption("relaykit_only")
    scope = selected(state.contracts, _full_profile(config, state), only)
    record = RunRecord(
        run={
            "name": config.getoption("relaykit_run_name"),
            "target": "relay",
            "base_url": state.base_url,
            "profile": state.profile.name,
            "seed": config.getoption("relaykit_seed"),
            "runner": "pytest",
            "documented": documented_counts(op.family for op in scope),
        },
        budget=budget_of(_full_profile(config, state)),
        spent=state.spent,
        operations=state.operations,
        findings=state.findings,
        tool=tool_version(),
    )
    from reports.rundir import SecretLeak, new_run_dir, write_all

    root = Path(config.getoption("relaykit_report_dir"))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    try:
        run_dir = new_run_dir(root, config.getoption("relaykit_run_name"))
        line = f"relaykit run record: {write_all(record, run_dir, [state.key])['record']}"
    except SecretLeak as exc:
        line = f"relaykit: the run was not written: {exc}"
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    if reporter is not None:
        reporter.write_line(line)
