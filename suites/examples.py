"""The examples check: send each documented request example and judge what comes back.

Plain operations are judged by suites.responses. Task operations need more than one request: a
submit is followed to the state its invariants need, a poll or cancel gets a fresh task to ask
about, and a list is checked for the task just submitted (suites.tasks).
"""

from __future__ import annotations

from contracts.model import Operation
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.probes import Probe, example_probes
from suites.resources import creator, fresh_resource
from suites.responses import judge_body, judge_status, raise_if_unsupported, send_and_judge
from suites.task_lists import check_list
from suites.task_parents import fill_parent, waiting_state
from suites.task_trace import off_contract
from suites.tasks import follow, fresh_task, submit, task_findings

TERMINAL_INVARIANTS = frozenset(
    {
        "task_reaches_terminal",
        "task_result_urls_reachable",
        "task_states_legal",
        "task_progress_monotonic",
    }
)


def check_examples(ctx: CheckContext, op: Operation) -> list[Finding]:
    """Every servable request example of ``op``, sent and judged (Unsupported propagates)."""
    role = op.task_role
    if role == "list":
        return check_list(ctx, op, "example")
    if role == "poll":
        return _poll(ctx, op)
    findings: list[Finding] = []
    unlisted = ctx.unlisted.get(op.id, frozenset())
    sent = 0
    for probe in example_probes(op, ctx.profile):
        model = probe.json_body.get("model")
        if model in unlisted:
            why = f"model not offered: the relay does not list {model}"
            findings.append(ctx.finding(op.id, "examples", Outcome.SKIP, why, probe.source))
            continue
        no_parent = fill_parent(ctx, op, probe)
        if no_parent is not None:
            findings.append(ctx.finding(op.id, "examples", Outcome.SKIP, no_parent, probe.source))
            continue
        if probe.missing_params and creator(ctx.contracts, op) is not None:
            made = fresh_resource(ctx, op)
            if isinstance(made, str):
                findings.append(ctx.finding(op.id, "examples", Outcome.SKIP, made, probe.source))
                continue
            probe.path_values.update(made)
        elif probe.missing_params:
            got = fresh_task(ctx, op)
            if isinstance(got, str):
                findings.append(ctx.finding(op.id, "examples", Outcome.SKIP, got, probe.source))
                continue
            probe.path_values.update(got[0])
        first, sent = sent == 0, sent + 1
        if role == "submit":
            findings += _submit(ctx, op, probe, first=first)
        else:
            findings += send_and_judge(ctx, probe, first=first)
    return findings


def _submit(ctx: CheckContext, op: Operation, probe: Probe, first: bool) -> list[Finding]:
    exchange, task_id = submit(ctx, op, probe)
    raise_if_unsupported(exchange, first)
    findings = judge_status(ctx, probe, exchange)
    if exchange.status == op.response.status:
        findings += judge_body(ctx, probe, exchange)
    until_terminal = bool(TERMINAL_INVARIANTS & set(op.invariants))
    waits = waiting_state(op, probe.json_body)
    trace = follow(ctx, op, exchange, task_id, until_terminal=until_terminal, waits=waits)
    return findings + task_findings(op, trace, ctx, probe.source)


def _poll(ctx: CheckContext, op: Operation) -> list[Finding]:
    got = fresh_task(ctx, op)
    if isinstance(got, str):
        return [ctx.finding(op.id, "examples", Outcome.SKIP, got, "example")]
    path_values, trace = got
    source = f"task:{trace.submit_op.id}"
    findings = task_findings(op, trace, ctx, source)
    if not trace.observations:
        return findings
    # a poll stopped at a status outside the contract is task_states_legal's finding: the
    # answer judged here is the last one in the contract's states, if any
    judged = [o for o in trace.observations if not off_contract(trace, o)]
    last = judged[-1] if judged else trace.observations[-1]
    probe = Probe(op, source, None, path_values)
    findings += judge_status(ctx, probe, last.exchange)
    if last.exchange.status == op.response.status and judged:
        findings += judge_body(ctx, probe, last.exchange)
    return findings
