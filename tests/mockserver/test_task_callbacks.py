"""Task callbacks: the mock POSTs the polled task to the client at each state change, with a
timeout, bounded retries and no redirects, to a receiver the test runs on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts.dotted import get_values
from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver import MockConfig, callbacks, create_app
from mockserver.background import serve_in_thread

AUTH = {"Authorization": "Bearer sk-callbacks"}
SPEED = 10.0


@dataclass
class Receiver:
    """Records every POST per path; ``fail[path]`` answers 500 that many times first."""

    posts: dict[str, list[Any]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)

    async def hook(self, request: Request) -> Response:
        path = request.url.path
        self.attempts[path] = self.attempts.get(path, 0) + 1
        if path.startswith("/slow"):
            await asyncio.sleep(1.0)
        if path.startswith("/redirect"):
            return Response(status_code=307, headers={"Location": "/followed"})
        if self.fail.get(path, 0) > 0:
            self.fail[path] -= 1
            return Response("try again", status_code=500)
        self.posts.setdefault(path, []).append(await request.json())
        return Response("ok")

    def wait(self, path: str, done: Any, timeout: float = 10) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.posts.get(path, [])
            if got and done(got[-1]):
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: got {self.posts.get(path)}")


@pytest.fixture()
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = Starlette(routes=[Route("/{path:path}", rec.hook, methods=["POST"])])
    with serve_in_thread(app) as url:
        yield rec, url


@pytest.fixture(scope="module")
def mock(contracts: ContractSet) -> Iterator[str]:
    with serve_in_thread(create_app(contracts, MockConfig(task_speed=SPEED))) as url:
        yield url


def test_mj_notify_hook_gets_each_state_in_order(
    receiver: tuple[Receiver, str], mock: str, contracts: ContractSet
) -> None:
    rec, hooks = receiver
    r = httpx.post(
        f"{mock}/mj/submit/imagine",
        json={"prompt": "a fox", "notifyHook": f"{hooks}/mj"},
        headers=AUTH,
    )
    task_id = r.json()["result"]
    got = rec.wait("/mj", lambda b: b["status"] == "SUCCESS")
    assert [b["status"] for b in got] == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    assert {b["id"] for b in got} == {task_id}
    schema = contracts.get("mj.task.fetch").response.schema
    assert schema is not None
    assert all(Validators(contracts.components).problems(schema, b) == [] for b in got)
    final = httpx.get(f"{mock}/mj/task/{task_id}/fetch", headers=AUTH).json()
    assert got[-1] == final  # the callback carries what a poll shows


@pytest.mark.parametrize(
    ("path", "body", "status", "done"),
    [
        (
            "/kling/v1/videos/text2video",
            {"prompt": "a cat", "callback_url": "{hook}"},
            "data.task_status",
            "succeed",
        ),
        ("/suno/submit/music", {"gpt_description_prompt": "rain", "notify_hook": "{hook}"},
         "data.status", "SUCCESS"),
        ("/suno/v1/music", {"custom_mode": False, "input": {"gpt_description_prompt": "rain"},
                            "notify_hook": "{hook}"}, "data.status", "completed"),
        ("/luma/generations", {"user_prompt": "cat dance", "notify_hook": "{hook}"}, "state",
         "completed"),
        ("/flux/v1/flux-pro-1.1", {"prompt": "a lighthouse", "webhook_url": "{hook}"}, "status",
         "Ready"),
    ],
)  # fmt: skip
def test_each_family_calls_back_until_its_success(
    receiver: tuple[Receiver, str], mock: str, path: str, body: Any, status: str, done: str
) -> None:
    rec, hooks = receiver
    filled = {k: (f"{hooks}/cb" if v == "{hook}" else v) for k, v in body.items()}
    assert httpx.post(f"{mock}{path}", json=filled, headers=AUTH).status_code == 200
    got = rec.wait("/cb", lambda b: get_values(b, status) == [done])
    states = [get_values(b, status)[0] for b in got]
    assert len(states) >= 2 and len(set(states)) == len(states), states


def test_failure_scenario_calls_back_the_failure(receiver: tuple[Receiver, str], mock: str) -> None:
    rec, hooks = receiver
    httpx.post(
        f"{mock}/kling/v1/videos/text2video",
        json={"prompt": "x", "callback_url": f"{hooks}/k"},
        headers={**AUTH, "Prefer": "task=failure"},
    )
    got = rec.wait("/k", lambda b: b["data"]["task_status"] in ("succeed", "failed"))
    assert [b["data"]["task_status"] for b in got] == ["submitted", "processing", "failed"]


def test_a_failing_receiver_is_retried(
    receiver: tuple[Receiver, str], mock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec, hooks = receiver
    monkeypatch.setattr(callbacks, "BACKOFF", 0.02)
    rec.fail["/flaky"] = 2
    httpx.post(
        f"{mock}/mj/submit/imagine",
        json={"prompt": "x", "notifyHook": f"{hooks}/flaky"},
        headers=AUTH,
    )
    got = rec.wait("/flaky", lambda b: b["status"] == "SUCCESS")
    assert [b["status"] for b in got] == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    assert rec.attempts["/flaky"] == 2 + 3  # two failures, then one delivery per state


def test_retries_are_bounded(
    receiver: tuple[Receiver, str], mock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec, hooks = receiver
    monkeypatch.setattr(callbacks, "BACKOFF", 0.02)
    rec.fail["/down"] = 1000
    httpx.post(
        f"{mock}/mj/submit/imagine",
        json={"prompt": "x", "notifyHook": f"{hooks}/down"},
        headers=AUTH,
    )
    deadline = time.monotonic() + 8
    expected = 3 * (1 + callbacks.RETRIES)  # three states, each tried 1 + RETRIES times
    while time.monotonic() < deadline and rec.attempts.get("/down", 0) < expected:
        time.sleep(0.05)
    time.sleep(0.6)  # nothing more comes
    assert rec.attempts["/down"] == expected and "/down" not in rec.posts


def test_redirects_are_not_followed(receiver: tuple[Receiver, str], mock: str) -> None:
    rec, hooks = receiver
    httpx.post(
        f"{mock}/mj/submit/imagine",
        json={"prompt": "x", "notifyHook": f"{hooks}/redirect"},
        headers=AUTH,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and rec.attempts.get("/redirect", 0) < 3:
        time.sleep(0.05)
    time.sleep(0.3)
    assert rec.attempts["/redirect"] == 3  # one per state: a 3xx is not retried
    assert "/followed" not in rec.attempts


def test_a_slow_receiver_times_out(
    receiver: tuple[Receiver, str], mock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec, hooks = receiver
    monkeypatch.setattr(callbacks, "TIMEOUT", 0.2)
    monkeypatch.setattr(callbacks, "RETRIES", 1)
    httpx.post(
        f"{mock}/mj/submit/imagine",
        json={"prompt": "x", "notifyHook": f"{hooks}/slow"},
        headers=AUTH,
    )
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and rec.attempts.get("/slow", 0) < 6:
        time.sleep(0.05)
    assert rec.attempts["/slow"] == 6  # each state: first try and one retry, both timed out


def test_only_http_urls_are_called(mock: str) -> None:
    for hook in ("ftp://127.0.0.1/x", "not a url", "http://", "file:///etc/passwd", 42):
        r = httpx.post(
            f"{mock}/mj/submit/imagine", json={"prompt": "x", "notifyHook": hook}, headers=AUTH
        )
        assert r.status_code in (200, 400), hook
    assert callbacks.callback_url("https://hooks.acme.dev/h") == "https://hooks.acme.dev/h"
    assert callbacks.callback_url("http://127.0.0.1:9/h") == "http://127.0.0.1:9/h"
    for bad in ("ftp://hooks.acme.dev/h", "http://", "javascript:alert(1)", None, 3):
        assert callbacks.callback_url(bad) is None


def test_documentation_domains_are_never_called() -> None:
    """The hooks of documented examples (client.example.com) belong to nobody: a mock that
    called them would reach for the internet (and hang a shutdown on DNS where there is none)."""
    for reserved in (
        "https://client.example.com/mj/callback", "http://example.org/h", "https://a.b.example/h",
        "http://hook.invalid/", "http://ci.test/h", "https://EXAMPLE.NET./x",
    ):  # fmt: skip
        assert callbacks.callback_url(reserved) is None, reserved
