"""Task lifecycle checks against the mock (fast tasks), and against broken relays: a proxy in
front of the mock that breaks one rule each, so exactly the invariant aimed at fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts.model import ContractSet, Operation
from contracts.validation import Validators
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.probes import example_probes
from suites.profile import Budget, Limits, Profile
from suites.streams import StreamLimits
from suites.task_lists import check_list
from suites.task_trace import feeders, parse_progress, submit_probe
from suites.tasks import (
    TASK_INVARIANTS,
    TaskTrace,
    follow,
    fresh_task,
    reachable,
    submit,
    task_findings,
)
from suites.transport import BudgetExceeded, Transport

BAD = (Outcome.FAIL, Outcome.ERROR)
Rewrite = Callable[[str, int, Any], tuple[int, Any]]


def make_ctx(
    contracts: ContractSet, url: str, task_seconds: float = 20, budget: Budget | None = None
) -> CheckContext:
    limits = Limits(rps=0, poll_interval=0.05, task_seconds=task_seconds)
    budget = budget or Budget(requests=100000, tokens=10**9, paid_media_calls=10**6)
    transport = Transport(url, "sk-test", limits, budget)
    validators = Validators(contracts.components)
    return CheckContext(contracts, Profile(limits=limits), transport, validators, StreamLimits())


@pytest.fixture(scope="module")
def fast_url(contracts: ContractSet) -> Iterator[str]:
    app = create_app(contracts, MockConfig(ttfe=0, interval=0, task_speed=20))
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def slow_url(contracts: ContractSet) -> Iterator[str]:
    """Tasks at speed 1: a Midjourney task stays SUBMITTED for a second (time to cancel)."""
    with serve_in_thread(create_app(contracts, MockConfig(ttfe=0, interval=0))) as url:
        yield url


@pytest.fixture()
def ctx(contracts: ContractSet, fast_url: str) -> Iterator[CheckContext]:
    context = make_ctx(contracts, fast_url)
    yield context
    context.transport.close()


def role(op: Operation) -> str | None:
    return op.task_role


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check_id: f for f in findings}


def run_submit(
    ctx: CheckContext, op: Operation, headers: dict[str, str] | None = None
) -> TaskTrace:
    probe = submit_probe(ctx, op)
    probe.headers.update(headers or {})
    exchange, task_id = submit(ctx, op, probe)
    return follow(ctx, op, exchange, task_id, until_terminal=True)


def judged(ctx: CheckContext, trace: TaskTrace) -> dict[str, Finding]:
    """Findings for the submit's and the poll's task invariants, by check id."""
    found = task_findings(trace.submit_op, trace, ctx, "example:test")
    found += task_findings(trace.poll_op, trace, ctx, "example:test")
    return by_check(found)


# --- pure rules -----------------------------------------------------------------------------------


def test_progress_parses_every_documented_format() -> None:
    assert parse_progress("45%", "percent-string") == 45
    assert parse_progress(45, "percent-number") == 45
    assert parse_progress(0.45, "fraction") == 45
    assert parse_progress("", "percent-string") is None
    assert parse_progress(None, "fraction") is None
    assert parse_progress(True, "percent-number") is None


def test_transitions_are_followed_transitively() -> None:
    transitions = {"a": ["b"], "b": ["c"], "c": []}
    assert reachable(transitions, "a") == {"b", "c"}
    assert reachable(transitions, "c") == set()


# --- the mock: every task operation conforms -------------------------------------------------


def test_every_submit_passes_its_task_invariants(ctx: CheckContext, contracts: ContractSet) -> None:
    submits = [op for op in contracts if role(op) == "submit"]
    with ThreadPoolExecutor(8) as pool:
        traces = list(pool.map(lambda op: run_submit(ctx, op), submits))
    for op, trace in zip(submits, traces, strict=True):
        assert trace.ended == "terminal" and trace.succeeded, (op.id, trace.summary())
        found = by_check(task_findings(op, trace, ctx, "example:first"))
        listed = [n for n in op.invariants if n in TASK_INVARIANTS]
        assert sorted(found) == sorted(f"invariant.{n}" for n in listed), op.id
        for finding in found.values():
            assert finding.outcome == Outcome.PASS, (op.id, finding.check_id, finding.message)


def test_every_poll_passes_on_a_fresh_task(ctx: CheckContext, contracts: ContractSet) -> None:
    polls = [op for op in contracts if role(op) == "poll"]
    for op in polls:
        got = fresh_task(ctx, op)
        assert not isinstance(got, str), (op.id, got)
        values, trace = got
        assert trace.poll_op.id == op.id and trace.task_id in values.values(), op.id
        assert trace.ended == "terminal", (op.id, trace.summary())
        found = task_findings(op, trace, ctx, "fresh")
        assert found, op.id
        for finding in found:
            skippable = finding.check_id == "invariant.task_progress_monotonic"
            allowed = (Outcome.PASS, Outcome.SKIP) if skippable else (Outcome.PASS,)
            assert finding.outcome in allowed, (op.id, finding.check_id, finding.message)


def test_operations_needing_a_finished_task_answer_with_a_fresh_one(
    ctx: CheckContext, contracts: ContractSet
) -> None:
    for op_id in ("mj.task.image_seed", "luma.generations.download_video_url"):
        op = contracts.get(op_id)
        got = fresh_task(ctx, op)
        assert not isinstance(got, str), (op_id, got)
        values, trace = got
        assert trace.succeeded, (op_id, trace.summary())
        probe = example_probes(op, ctx.profile)[0]
        probe.path_values.update(values)
        assert not probe.missing_params, op_id
        answer = ctx.transport.send(probe.build(ctx.transport))
        assert answer.status == 200, (op_id, answer.content[:200])


def test_kling_poll_path_comes_from_the_submit(ctx: CheckContext, contracts: ContractSet) -> None:
    got = fresh_task(ctx, contracts.get("kling.task.get"))
    assert not isinstance(got, str)
    values, trace = got
    submit_path = trace.submit_op.path.split("/")
    assert [values["action"], values["action2"]] == submit_path[3:5]


def test_no_feeding_submit_is_a_reason(ctx: CheckContext, contracts: ContractSet) -> None:
    chat = next(op for op in contracts if op.path == "/v1/chat/completions")
    got = fresh_task(ctx, chat)
    assert isinstance(got, str) and chat.id in got
    assert feeders(contracts, contracts.get("mj.task.fetch"))[0].id == "mj.submit.imagine"


def test_every_list_lists_the_fresh_task(ctx: CheckContext, contracts: ContractSet) -> None:
    lists = [op for op in contracts if role(op) == "list"]
    assert len(lists) >= 6
    for op in lists:
        found = by_check(check_list(ctx, op, "example:first"))
        assert found["response.schema"].outcome == Outcome.PASS, (op.id, found)
        for finding in found.values():
            assert finding.outcome not in BAD, (op.id, finding.check_id, finding.message)
        if "list_contains_submitted" in op.invariants:
            contains = found["invariant.list_contains_submitted"]
            assert contains.outcome == Outcome.PASS, (op.id, contains.message)


def test_cancel_ends_the_task_in_a_legal_state(contracts: ContractSet, slow_url: str) -> None:
    ctx = make_ctx(contracts, slow_url)
    cancel = contracts.get("mj.task.cancel")
    got = fresh_task(ctx, cancel)
    assert not isinstance(got, str)
    values, fresh = got
    assert fresh.observations == [], "a cancel's task is cancelled before any poll"
    probe = example_probes(cancel, ctx.profile)[0]
    probe.path_values.update(values)
    assert ctx.transport.send(probe.build(ctx.transport)).status == 200
    trace = follow(ctx, fresh.submit_op, fresh.submit_exchange, fresh.task_id, until_terminal=True)
    assert trace.final_state() == "CANCEL", trace.summary()
    found = by_check(task_findings(cancel, trace, ctx, "fresh"))
    assert found["invariant.task_states_legal"].outcome == Outcome.PASS


@pytest.mark.parametrize("scenario", ["failure", "banned"])
def test_a_failed_task_is_terminal(
    ctx: CheckContext, contracts: ContractSet, scenario: str
) -> None:
    trace = run_submit(ctx, contracts.get("runway.image_to_video"), {"Prefer": f"task={scenario}"})
    found = judged(ctx, trace)
    terminal = found["invariant.task_reaches_terminal"]
    assert terminal.outcome == Outcome.PASS and "FAILED" in terminal.message
    urls = found["invariant.task_result_urls_reachable"]
    assert urls.outcome == Outcome.SKIP and "did not succeed" in urls.message
    assert found["invariant.task_states_legal"].outcome == Outcome.PASS


def test_banned_midjourney_prompt_fails_id_returned(
    ctx: CheckContext, contracts: ContractSet
) -> None:
    trace = run_submit(ctx, contracts.get("mj.submit.imagine"), {"Prefer": "task=banned"})
    assert trace.task_id is None and trace.ended == "no-id"
    found = judged(ctx, trace)
    assert found["invariant.task_id_returned"].outcome == Outcome.FAIL
    assert "code 24" in found["invariant.task_id_returned"].message
    assert found["invariant.task_queryable_at_once"].outcome == Outcome.SKIP


def test_submits_charge_paid_media_calls_only_for_media(
    ctx: CheckContext, contracts: ContractSet
) -> None:
    spend = ctx.transport.spend
    before = spend.paid_calls
    submit(ctx, contracts.get("suno.submit.lyrics"))
    assert spend.paid_calls == before
    submit(ctx, contracts.get("runway.image_to_video"))
    assert spend.paid_calls == before + 1


def test_budget_exceeded_propagates(contracts: ContractSet, fast_url: str) -> None:
    ctx = make_ctx(contracts, fast_url, budget=Budget(requests=1, paid_media_calls=10))
    op = contracts.get("runway.image_to_video")
    exchange, task_id = submit(ctx, op)
    with pytest.raises(BudgetExceeded):
        follow(ctx, op, exchange, task_id, until_terminal=True)


# --- broken relays: a proxy in front of the mock breaks one rule ---------------------------------


class Proxy:
    """Forwards to the mock; ``rewrite(path, status, body)`` may change each JSON answer."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrite: Rewrite = lambda path, status, body: (status, body)
        self.app = Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])

    async def forward(self, request: Request) -> Response:
        async with httpx.AsyncClient(base_url=self.upstream, timeout=10) as client:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            }
            upstream = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        body: Any = upstream.content
        if upstream.headers.get("content-type", "").startswith("application/json"):
            status, data = self.rewrite(request.url.path, upstream.status_code, upstream.json())
            return Response(json.dumps(data), status, media_type="application/json")
        return Response(body, upstream.status_code, media_type=upstream.headers.get("content-type"))


@pytest.fixture(scope="module")
def proxy_and_url(contracts: ContractSet) -> Iterator[tuple[Proxy, str]]:
    """The proxy before a mock at speed 4: an MJ task then runs 0.75 s, a few polls long."""
    app = create_app(contracts, MockConfig(ttfe=0, interval=0, task_speed=4))
    with serve_in_thread(app) as upstream:
        proxy = Proxy(upstream)
        with serve_in_thread(proxy.app) as url:
            yield proxy, url


@pytest.fixture()
def broken(proxy_and_url: tuple[Proxy, str]) -> Iterator[tuple[Proxy, str]]:
    proxy, url = proxy_and_url
    yield proxy, url
    proxy.rewrite = lambda path, status, body: (status, body)


def only_failure(found: dict[str, Finding]) -> list[str]:
    return sorted(c for c, f in found.items() if f.outcome in BAD)


RUNWAY = "/runwayml/v1/tasks/"
MJ = "/mj/task/"


def test_unknown_state_fails_states_legal(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(RUNWAY) and body.get("status") == "RUNNING":
            body["status"] = "WORKING"
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("runway.image_to_video")))
    assert only_failure(found) == ["invariant.task_states_legal"]
    assert "'WORKING'" in found["invariant.task_states_legal"].message


def test_a_status_outside_the_contract_stops_polling_at_once(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    """A relay that answers ``success`` where the contract says ``SUCCESS`` would otherwise be
    polled until task_seconds (300 s by default), task after task."""
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(MJ) and isinstance(body.get("status"), str):
            body["status"] = body["status"].lower()
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url, task_seconds=300)
    trace = run_submit(ctx, contracts.get("mj.submit.imagine"))
    assert trace.ended == "off-contract"
    assert len(trace.observations) == 1  # one poll, then no more
    found = judged(ctx, trace)
    assert only_failure(found) == ["invariant.task_states_legal"]
    assert found["invariant.task_reaches_terminal"].outcome is Outcome.SKIP
    assert "task_states_legal" in found["invariant.task_reaches_terminal"].message


def test_empty_mj_status_names_the_known_relay_habit(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(MJ) and body.get("status") == "IN_PROGRESS":
            body["status"] = ""
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("mj.submit.imagine")))
    assert only_failure(found) == ["invariant.task_states_legal"]
    assert "Midjourney relays" in found["invariant.task_states_legal"].message


def test_progress_going_back_fails_progress_monotonic(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken
    given = iter(["50%", "10%"])

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(MJ) and body.get("status") != "SUCCESS":
            body["progress"] = next(given, body["progress"])
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("mj.submit.imagine")))
    assert only_failure(found) == ["invariant.task_progress_monotonic"]
    assert "from 50% to 10%" in found["invariant.task_progress_monotonic"].message


def test_first_poll_404_fails_queryable_at_once(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken
    polled: list[str] = []

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(RUNWAY):
            polled.append(path)
            if len(polled) == 1:
                return 404, {"error": {"message": "Task not found", "type": "not_found"}}
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("runway.image_to_video")))
    assert only_failure(found) == ["invariant.task_queryable_at_once"]
    assert "404" in found["invariant.task_queryable_at_once"].message
    assert found["invariant.task_reaches_terminal"].outcome == Outcome.PASS


def test_stuck_task_fails_reaches_terminal(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(RUNWAY):
            body = {k: v for k, v in body.items() if k not in ("output", "progress")}
            body["status"] = "PENDING"
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url, task_seconds=1)
    trace = run_submit(ctx, contracts.get("runway.image_to_video"))
    assert trace.ended == "timeout" and 1 <= trace.observations[-1].at < 3
    found = judged(ctx, trace)
    assert only_failure(found) == ["invariant.task_reaches_terminal"]
    message = found["invariant.task_reaches_terminal"].message
    assert "still PENDING" in message and "task_seconds=1" in message
    assert found["invariant.task_result_urls_reachable"].outcome == Outcome.SKIP


def test_dead_result_urls_fail_result_urls_reachable(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path.startswith(RUNWAY) and body.get("output"):
            body["output"] = ["/gone/result.mp4"]  # relative: resolved against the relay
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("runway.image_to_video")))
    assert only_failure(found) == ["invariant.task_result_urls_reachable"]
    assert "404" in found["invariant.task_result_urls_reachable"].message


def test_queue_full_code_is_inconclusive(contracts: ContractSet, broken: tuple[Proxy, str]) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        if path == "/mj/submit/imagine":
            body["code"], body["description"] = 23, "队列已满，请稍后尝试"
        return status, body

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = judged(ctx, run_submit(ctx, contracts.get("mj.submit.imagine")))
    assert found["invariant.task_id_returned"].outcome == Outcome.INCONCLUSIVE
    assert only_failure(found) == []


def test_list_without_the_fresh_task_fails_list_contains(
    contracts: ContractSet, broken: tuple[Proxy, str]
) -> None:
    proxy, url = broken

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any]:
        return status, ([] if path == "/mj/task/list-by-condition" else body)

    proxy.rewrite = rewrite
    ctx = make_ctx(contracts, url)
    found = by_check(check_list(ctx, contracts.get("mj.task.list_by_condition"), "example:x"))
    assert found["response.schema"].outcome == Outcome.PASS
    contains = found["invariant.list_contains_submitted"]
    assert contains.outcome == Outcome.FAIL and "not among the 0 listed" in contains.message
    assert found["invariant.task_states_legal"].outcome == Outcome.INCONCLUSIVE


def test_polling_ends_when_the_run_stops(contracts: ContractSet, slow_url: str) -> None:
    context = make_ctx(contracts, slow_url)
    op = contracts.get("mj.submit.imagine")
    exchange, task_id = submit(context, op)
    assert task_id is not None
    context.transport.guard.ends_at = 0.0  # the run deadline has passed
    trace = follow(context, op, exchange, task_id, until_terminal=True)
    context.transport.close()
    assert trace.ended == "stopped" and not trace.observations
    assert trace.detail.startswith("not sent: run deadline")
    terminal = task_findings(op, trace, context, "example")
    reaches = [f for f in terminal if f.check_id == "invariant.task_reaches_terminal"]
    assert [f.outcome for f in reaches] == [Outcome.SKIP]
