"""Async task lifecycle checks: one check id per task invariant, judged on a TaskTrace.

A fresh id answers at once and is queryable at once, every observed state is legal and each
change allowed (transitively: polling can miss states), progress never goes back, a terminal
state comes within task_seconds, a successful task's result URLs download, and a list shows the
task just submitted. Submitting and polling live in suites/task_trace.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from contracts.dotted import get_values, state_text
from contracts.model import Operation
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.probes import example_probes
from suites.task_trace import (
    MJ_ACCEPTED,
    Observation,
    TaskTrace,
    TaskUnavailable,
    feeders,
    follow,
    fresh_task,
    mj_code,
    poll_of,
    start_trace,
    submit,
    task_block,
)
from suites.transport import Exchange

__all__ = [
    "TASK_INVARIANTS",
    "Observation",
    "TaskTrace",
    "TaskUnavailable",
    "check_list",
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
    id_field = task_block(trace.submit_op).get("id_field", "id")
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
        problems = ctx.validators.problems(schema, first.body, limit=1)
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
    states = [str(s) for s in task.get("states", [])]
    transitions: Mapping[str, list[str]] = task.get("transitions", {})
    status_field = task.get("status_field", "status")
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
    initial = [str(s) for s in task.get("initial", [])]
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


def _failed(task: Mapping[str, Any], state: str | None) -> bool:
    return state in task.get("terminal", []) and state != task.get("success")


def _progress(trace: TaskTrace) -> Verdict:
    task = trace.task
    field_path = task.get("progress_field")
    if not field_path or task.get("progress_format") == "none":
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
        success = trace.task.get("success")
        reached = f"{trace.task.get('status_field', 'status')} reached {final} after {waited:.1f} s"
        if final == success:
            return Outcome.PASS, reached, last
        return Outcome.PASS, f"{reached}: terminal, though not the success state {success}", last
    if trace.ended == "timeout":
        state = final if final is not None else "without a status"
        limit = f"task_seconds={trace.limit:g}"
        return Outcome.FAIL, f"still {state} after {waited:.1f} s ({limit})", last
    if trace.ended == "refused":
        return Outcome.FAIL, f"the poll answered {trace.detail} several times in a row", last
    if trace.ended == "error":
        return Outcome.ERROR, f"the poll got no answer: {trace.detail}", last
    return Outcome.SKIP, f"the task was not followed to its end ({trace.summary()})", last


def _result_urls(ctx: CheckContext, trace: TaskTrace) -> Verdict:
    paths = [str(p) for p in trace.task.get("result_urls", [])]
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
        key = "" if urlsplit(target).netloc == relay else None
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
        for chunk in response.iter_bytes():
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


# --- lists --------------------------------------------------------------------------------------


def list_items(body: Any) -> list[Any]:
    """The task items of a list answer: the array itself or the first array it holds."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return next((v for v in body.values() if isinstance(v, list)), [])
    return []


def item_values(item: Any, dotted: str) -> list[Any]:
    """Values at ``dotted`` in a list item, also at its shorter suffixes (an item may be part of
    the poll body) and under each object child (a relay's record wrapping the poll body)."""
    parts = dotted.split(".")
    out: list[Any] = []
    for i in range(len(parts)):
        out.extend(get_values(item, ".".join(parts[i:])))
    if isinstance(item, dict):
        for child in item.values():
            if isinstance(child, dict):
                out.extend(get_values(child, dotted))
    return out


def _with_ids(body: Any, task_id: str) -> Any:
    """The example body with each list of ids (``ids``, ``taskIds``) replaced by the fresh id."""
    if not isinstance(body, dict):
        return body
    return {
        k: [task_id]
        if k.lower().endswith("ids") and isinstance(v, list) and all(isinstance(x, str) for x in v)
        else v
        for k, v in body.items()
    }


def check_list(ctx: CheckContext, op: Operation, source: str) -> list[Finding]:
    """Submit a fresh task, send the list op's first example (listing that id where it lists
    ids); response.schema, list_contains_submitted and task_states_legal on the items."""
    poll = poll_of(ctx.contracts, op)
    probe = example_probes(op, ctx.profile)[0]
    status_key = str(task_block(poll).get("status_field", "status")).split(".")[-1]
    task_id, why = _fresh_for_list(ctx, op, filters_state=status_key in probe.json_body)
    if task_id is not None:
        probe.body = _with_ids(probe.body, task_id)
    exchange = ctx.transport.send(probe.build(ctx.transport))
    verdicts: dict[str, tuple[Outcome, str]] = {}
    if exchange.status is None or not 200 <= exchange.status < 300:
        said = exchange.error or f"HTTP {exchange.status}"
        broke = Outcome.ERROR if exchange.status is None else Outcome.FAIL
        verdicts["response.schema"] = broke, f"the list answered {said}"
        verdicts["invariant.list_contains_submitted"] = broke, f"the list answered {said}"
        verdicts["invariant.task_states_legal"] = Outcome.SKIP, f"the list answered {said}"
    else:
        body = exchange.json()
        verdicts["response.schema"] = _list_schema(ctx, op, body)
        verdicts["invariant.list_contains_submitted"] = _contains(poll, body, task_id, why)
        verdicts["invariant.task_states_legal"] = _listed_states(poll, list_items(body))
    wanted = ["response.schema", *(f"invariant.{n}" for n in op.invariants)]
    return [
        ctx.finding(op.id, check_id, *verdicts[check_id], source, exchange)
        for check_id in wanted
        if check_id in verdicts
    ]


def _list_schema(ctx: CheckContext, op: Operation, body: Any) -> tuple[Outcome, str]:
    if op.response.schema is None:
        return Outcome.SKIP, "the contract gives no response schema"
    problems = ctx.validators.problems(op.response.schema, body, limit=1)
    return (Outcome.FAIL, str(problems[0])) if problems else (Outcome.PASS, "matches the schema")


def _fresh_for_list(
    ctx: CheckContext, op: Operation, filters_state: bool
) -> tuple[str | None, str]:
    """A fresh task of a submit feeding the list's poll; followed to its end when the list
    example filters on the state (a page of SUCCESS tasks). (id, "") or (None, why)."""
    candidates = feeders(ctx.contracts, op)
    if not candidates:
        return None, f"no submit operation makes a task {op.id} lists"
    feeder = candidates[0]
    exchange, task_id = submit(ctx, feeder)
    if task_id is None:
        return None, f"the submit {feeder.id} gave no task id ({exchange.error or exchange.status})"
    trace = (
        follow(ctx, feeder, exchange, task_id, until_terminal=True)
        if filters_state
        else start_trace(ctx, feeder, exchange, task_id)
    )
    if filters_state and not trace.succeeded:
        return None, f"the task {task_id} of {feeder.id} {trace.summary()}"
    return task_id, ""


def _contains(poll: Operation, body: Any, task_id: str | None, why: str) -> tuple[Outcome, str]:
    if task_id is None:
        return Outcome.SKIP, f"no fresh task to look for: {why}"
    items = list_items(body)
    id_field = str(task_block(poll).get("id_field", "id"))
    for i, item in enumerate(items):
        if task_id in [str(v) for v in item_values(item, id_field)]:
            return Outcome.PASS, f"the fresh task {task_id} is item {i + 1} of {len(items)}"
    return Outcome.FAIL, f"the fresh task {task_id} is not among the {len(items)} listed items"


def _listed_states(poll: Operation, items: list[Any]) -> tuple[Outcome, str]:
    if not items:
        return Outcome.INCONCLUSIVE, "the list is empty: no state to judge"
    task = task_block(poll)
    states = [str(s) for s in task.get("states", [])]
    status_field = str(task.get("status_field", "status"))
    for i, item in enumerate(items):
        found = item_values(item, status_field)
        state = state_text(found[0]) if found else None
        problem = unknown_state(state, states, f"item {i + 1} (at {status_field})")
        if problem:
            return Outcome.FAIL, problem
    return Outcome.PASS, f"{len(items)} listed task(s), each in a legal state"
