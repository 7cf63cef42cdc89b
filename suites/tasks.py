"""Async task lifecycle checks: one check id per task invariant, judged on a TaskTrace.

A fresh id answers at once and is queryable at once, every observed state is legal and each
change allowed (transitively: polling can miss states), progress never goes back, a terminal
state comes within task_seconds, a successful task's result URLs download, and a list shows the
task just submitted. Submitting and polling live in suites/task_trace.py, the list checks in
suites/task_lists.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from urllib.parse import urljoin, urlsplit

import httpx

from contracts.dotted import get_values
from contracts.model import Operation, TaskSpec
from suites import bounded
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.task_trace import (
    MJ_ACCEPTED,
    Observation,
    TaskTrace,
    TaskUnavailable,
    follow,
    fresh_task,
    mj_code,
    submit,
    task_block,
)
from suites.transport import RUN_KEY, Exchange, KeyChoice

__all__ = [
    "TASK_INVARIANTS",
    "Observation",
    "TaskTrace",
    "TaskUnavailable",
    "follow",
    "fresh_task",
    "submit",
    "task_findings",
]

TASK_INVARIANTS = (
    "task_id_returned",
    "task_queryable_at_once",
    "task_states_legal",
    "task_progress_monotonic",
    "task_reaches_terminal",
    "task_result_urls_reachable",
)
"""Invariants task_findings judges on a trace (list_contains_submitted is check_list's)."""
MAX_DOWNLOAD = 64 * 1024
"""Bytes of a result file read to see that it downloads."""
MAX_REDIRECTS = 5
MJ_QUEUE_FULL = 23
MJ_BANNED = 24
EMPTY_NOTE = "; Midjourney relays are known to answer an empty status"

Verdict = tuple[Outcome, str, Exchange | None]


def task_findings(op: Operation, trace: TaskTrace, ctx: CheckContext, source: str) -> list[Finding]:
    """A finding ``invariant.<name>`` for each task invariant ``op`` lists, judged on ``trace``."""
    rules: dict[str, Callable[[], Verdict]] = {
        "task_id_returned": lambda: _id_returned(trace, source),
        "task_queryable_at_once": lambda: _queryable(ctx, trace),
        "task_states_legal": lambda: _states_legal(trace),
        "task_progress_monotonic": lambda: _progress(trace),
        "task_reaches_terminal": lambda: _reaches_terminal(trace),
        "task_result_urls_reachable": lambda: _result_urls(ctx, trace),
    }
    findings = []
    for name in op.invariants:
        rule = rules.get(name)
        if rule is not None:
            outcome, message, exchange = rule()
            check_id = f"invariant.{name}"
            findings.append(ctx.finding(op.id, check_id, outcome, message, source, exchange))
    return findings


def _last(trace: TaskTrace) -> Exchange | None:
    return trace.observations[-1].exchange if trace.observations else trace.submit_exchange


def _id_returned(trace: TaskTrace, source: str) -> Verdict:
    sent = trace.submit_exchange
    id_field = task_block(trace.submit_op).id_field
    if sent is None:
        return Outcome.SKIP, "no submit was sent", None
    if sent.status is None:
        return Outcome.ERROR, f"the submit got no answer: {sent.error}", sent
    if not 200 <= sent.status < 300:
        return Outcome.FAIL, f"the submit answered HTTP {sent.status}", sent
    body = sent.json()
    code = mj_code(trace.submit_op, body)
    said = body.get("description", "") if isinstance(body, dict) else ""
    if code == MJ_QUEUE_FULL:
        message = f"code 23 (queue full: {said!r}): the relay's queue was full, retry later"
        return Outcome.INCONCLUSIVE, message, sent
    if code == MJ_BANNED:
        if source.startswith("example:"):
            return Outcome.FAIL, f"code 24 (banned prompt: {said!r}) for a documented example", sent
        return Outcome.INCONCLUSIVE, f"code 24 (banned prompt: {said!r})", sent
    if code is not None and code not in MJ_ACCEPTED:
        return Outcome.FAIL, f"code {code} ({said!r}); a task exists only for 1, 21 or 22", sent
    if not trace.task_id:
        return Outcome.FAIL, f"HTTP {sent.status} but no task id at {id_field}", sent
    coded = f", code {code}" if code is not None else ""
    return Outcome.PASS, f"HTTP {sent.status}{coded}, task id {trace.task_id} at {id_field}", sent


def _queryable(ctx: CheckContext, trace: TaskTrace) -> Verdict:
    if not trace.task_id or not trace.observations:
        return Outcome.SKIP, f"no poll to judge: the task {trace.summary()}", trace.submit_exchange
    first = trace.observations[0]
    sent = first.exchange
    when = f"the first poll, {first.at:.2f} s after the submit,"
    if sent.status is None:
        return Outcome.ERROR, f"{when} got no answer: {sent.error}", sent
    if sent.status == 404:
        return Outcome.FAIL, f"{when} answered 404: the fresh id is not queryable at once", sent
    if sent.status not in (200, 202):
        return Outcome.FAIL, f"{when} answered HTTP {sent.status}", sent
    if first.body is None:
        return (
            Outcome.FAIL,
            f"{when} answered HTTP {sent.status} with a body that is not JSON",
            sent,
        )
    schema = trace.poll_op.response.schema
    # A 202 is a running answer whose body the 200 schema does not describe (Stability).
    if sent.status == 200 and schema is not None:
        problems = ctx.validators.problems(schema, first.body)
        if trace.ended == "off-contract":  # the status itself is task_states_legal's finding
            status_path = tuple(trace.task.status_field.split("."))
            problems = [p for p in problems if tuple(map(str, p.path)) != status_path]
        if problems:
            return Outcome.FAIL, f"{when} breaks {trace.poll_op.id}'s schema at {problems[0]}", sent
    shown = f" in state {first.status}" if first.status is not None else ""
    return Outcome.PASS, f"{when} answered {sent.status}{shown}", sent


def reachable(transitions: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """States reachable from ``start`` in one or more allowed transitions."""
    seen: set[str] = set()
    todo = list(transitions.get(start, []))
    while todo:
        state = todo.pop()
        if state not in seen:
            seen.add(state)
            todo.extend(transitions.get(state, []))
    return seen


def unknown_state(state: str | None, states: list[str], where: str) -> str | None:
    """Why ``state`` is not a legal state (named, with the MJ note for ""), or None."""
    if state is None:
        return f"{where} has no status"
    if state in states:
        return None
    note = EMPTY_NOTE if state == "" else ""
    return f"{where} shows status {state!r}, not one of {', '.join(states)}{note}"


def _states_legal(trace: TaskTrace) -> Verdict:
    task = trace.task
    states = list(task.states)
    transitions = task.transitions
    status_field = task.status_field
    seen: list[tuple[int, Observation]] = []
    for i, o in enumerate(trace.observations):
        if not o.answered or (o.status is None and o.exchange.status == 202):
            continue  # no answer, or a running answer without a status: nothing to judge
        problem = unknown_state(o.status, states, f"poll {i + 1} (at {status_field})")
        if problem:
            return Outcome.FAIL, problem, o.exchange
        seen.append((i, o))
    if not trace.observations:
        return Outcome.SKIP, f"the task was not polled: it {trace.summary()}", _last(trace)
    if not seen:
        return Outcome.INCONCLUSIVE, "no poll was answered with a status", _last(trace)
    start = str(seen[0][1].status)
    initial = list(task.initial)
    if start not in initial and not any(start in reachable(transitions, s) for s in initial):
        message = f"the first state {start} cannot follow the initial {', '.join(initial)}"
        return Outcome.FAIL, message, seen[0][1].exchange
    for (i, a), (j, b) in pairwise(seen):
        if a.status != b.status and b.status not in reachable(transitions, str(a.status)):
            message = (
                f"{a.status} -> {b.status} (polls {i + 1} and {j + 1}) is not an allowed change"
            )
            return Outcome.FAIL, message, b.exchange
    walk = [str(o.status) for _, o in seen]
    path = " -> ".join(s for k, s in enumerate(walk) if k == 0 or walk[k - 1] != s)
    return Outcome.PASS, f"{len(seen)} polls showed {path}, each change allowed", _last(trace)


def _failed(task: TaskSpec, state: str | None) -> bool:
    return state in task.failures


def _progress(trace: TaskTrace) -> Verdict:
    task = trace.task
    field_path = task.progress_field
    if not field_path or task.progress_format == "none":
        return Outcome.SKIP, "the contract documents no progress field", _last(trace)
    # A failed task's progress says nothing about its run (Viggle resets it to 0).
    shown = [
        (i, o)
        for i, o in enumerate(trace.observations)
        if o.progress is not None and not _failed(task, o.status)
    ]
    if not shown:
        return Outcome.SKIP, f"no poll reported progress at {field_path}", _last(trace)
    for (i, a), (j, b) in pairwise(shown):
        if b.progress is not None and a.progress is not None and b.progress < a.progress:
            message = f"progress went back from {a.progress:g}% to {b.progress:g}%"
            return Outcome.FAIL, f"{message} (polls {i + 1} and {j + 1})", b.exchange
    low, high = shown[0][1].progress, shown[-1][1].progress
    message = f"progress {low:g}% to {high:g}% over {len(shown)} polls, never back"
    return Outcome.PASS, message, _last(trace)


def _reaches_terminal(trace: TaskTrace) -> Verdict:
    final = trace.final_state()
    waited = trace.observations[-1].at if trace.observations else 0.0
    last = _last(trace)
    if trace.ended == "terminal":
        success = trace.task.success
        reached = f"{trace.task.status_field} reached {final} after {waited:.1f} s"
        if final == success:
            return Outcome.PASS, reached, last
        return Outcome.PASS, f"{reached}: terminal, though not the success state {success}", last
    if trace.ended == "waiting":
        message = (
            f"{trace.task.status_field} is {final} after {waited:.1f} s: the task waits there "
            "for the submit that continues it, as the contract's task.branches say"
        )
        return Outcome.PASS, message, last
    if trace.ended == "timeout":
        state = final if final is not None else "without a status"
        limit = f"task_seconds={trace.limit:g}"
        return Outcome.FAIL, f"still {state} after {waited:.1f} s ({limit})", last
    if trace.ended == "refused":
        return Outcome.FAIL, f"the poll answered {trace.detail} several times in a row", last
    if trace.ended == "off-contract":  # one cause, judged once by task_states_legal
        message = (
            f"not judged: polling stopped at once at {trace.detail}, outside the contract's "
            "states (invariant.task_states_legal)"
        )
        return Outcome.SKIP, message, last
    if trace.ended == "error":
        return Outcome.ERROR, f"the poll got no answer: {trace.detail}", last
    return Outcome.SKIP, f"the task was not followed to its end ({trace.summary()})", last


def _result_urls(ctx: CheckContext, trace: TaskTrace) -> Verdict:
    paths = list(trace.task.result_urls)
    last = _last(trace)
    if not paths:
        return Outcome.SKIP, "the contract names no result URL", last
    if not trace.succeeded:
        return Outcome.SKIP, f"the task did not succeed (it {trace.summary()})", last
    body = trace.observations[-1].body
    found = {
        url: path
        for path in paths
        for url in get_values(body, path)
        if isinstance(url, str) and url.strip() and not url.startswith("data:")
    }
    if not found:
        message = f"the task succeeded but shows no URL at {', '.join(paths)}"
        return Outcome.INCONCLUSIVE, message, last
    for url, path in found.items():
        exchange, got = download(ctx, trace.poll_op, url)
        if exchange.status is None:
            return Outcome.ERROR, f"{path} {url}: {exchange.error}", exchange
        if not 200 <= exchange.status < 300:
            return Outcome.FAIL, f"{path} {url} answered HTTP {exchange.status}", exchange
        if not got:
            return Outcome.FAIL, f"{path} {url} answered {exchange.status} with no bytes", exchange
    return Outcome.PASS, f"{len(found)} result URL(s) answered 2xx with data", last


def download(ctx: CheckContext, op: Operation, url: str) -> tuple[Exchange, int]:
    """GET a result URL (relative ones against the relay base), following redirects, reading at
    most MAX_DOWNLOAD bytes; the exchange and the bytes read. The key goes only to the relay."""
    target = urljoin(ctx.transport.base_url + "/", url)
    relay = urlsplit(ctx.transport.base_url).netloc
    for _ in range(MAX_REDIRECTS + 1):
        key: KeyChoice = RUN_KEY if urlsplit(target).netloc == relay else None
        request = ctx.transport.build("GET", target, schemes=op.auth, key=key)
        with ctx.transport.stream(request) as (exchange, response, _sent):
            if response is None:
                return exchange, 0
            location = response.headers.get("location")
            if response.is_redirect and location:
                target = urljoin(target, location)
                continue
            return _read_some(exchange, response)
    exchange.status, exchange.error = None, f"more than {MAX_REDIRECTS} redirects"
    return exchange, 0


def _read_some(exchange: Exchange, response: httpx.Response) -> tuple[Exchange, int]:
    chunks: list[bytes] = []
    read = 0
    try:
        # decoded a piece at a time: a compressed result file is never inflated whole
        for chunk in bounded.BodyReader(response, bounded.MAX_BODY_BYTES):
            chunks.append(chunk)
            read += len(chunk)
            if read >= MAX_DOWNLOAD:
                break
    except httpx.HTTPError as exc:
        exchange.error = f"{type(exc).__name__}: {exc}"
        exchange.status = None
        return exchange, read
    if exchange.status is not None and exchange.status >= 300:
        exchange.content = b"".join(chunks)[:MAX_DOWNLOAD]  # an error body is evidence
    return exchange, min(read, MAX_DOWNLOAD)
