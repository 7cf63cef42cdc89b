"""Midjourney end to end against a real `relaykit serve --workers 2`, through httpx.

imagine -> SUCCESS with buttons of its own -> action U1 -> an upscale with Custom Zoom ->
action Custom Zoom answers code 21 and the task waits in MODAL -> /mj/submit/modal continues
THE SAME id -> SUCCESS with the modal's prompt. Every request opens a new connection, so the
two worker processes answer in turn: what a task remembers is shared by all of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serving import relaykit_serve

AUTH = {"Authorization": "Bearer sk-mj-flow"}
SPEED = "20"


@pytest.fixture(scope="module")
def mj() -> Iterator[httpx.Client]:
    with relaykit_serve("--workers", "2", "--task-speed", SPEED) as url:
        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
        with httpx.Client(base_url=url, headers=AUTH, timeout=10, limits=fresh) as client:
            yield client


def fetch(mj: httpx.Client, task_id: str) -> dict[str, Any]:
    r = mj.get(f"/mj/task/{task_id}/fetch")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def until(mj: httpx.Client, task_id: str, state: str) -> tuple[dict[str, Any], list[str]]:
    """Poll until the task shows ``state``; the task and every state seen."""
    seen: list[str] = []
    for _ in range(200):
        task = fetch(mj, task_id)
        seen.append(task["status"])
        if task["status"] == state:
            return task, seen
        assert task["status"] not in ("FAILURE", "CANCEL"), seen
        time.sleep(0.02)
    raise AssertionError(f"{task_id} never reached {state}: {seen[-5:]}")


def button(task: dict[str, Any], prefix: str) -> str:
    found = [b["customId"] for b in task["buttons"] if b["customId"].startswith(prefix)]
    assert found, [b["customId"] for b in task["buttons"]]
    return str(found[0])


def test_imagine_action_modal_continues_one_id_to_success(mj: httpx.Client) -> None:
    before = int(time.time() * 1000)
    r = mj.post("/mj/submit/imagine", json={"prompt": "a blue whale --ar 1:1", "state": "o-7"})
    assert r.status_code == 200 and r.json()["code"] == 1
    grid_id = r.json()["result"]
    grid, _ = until(mj, grid_id, "SUCCESS")
    assert grid["prompt"] == grid["promptEn"] == "a blue whale --ar 1:1"
    assert grid["properties"]["finalPrompt"] == "a blue whale --ar 1:1"
    assert grid["state"] == "o-7" and before <= grid["submitTime"] <= int(time.time() * 1000)

    unknown = mj.post("/mj/submit/action", json={"taskId": "1234567890123456", "customId": "MJ::x"})
    assert unknown.status_code == 400 and unknown.json()["code"] == 4
    bogus = mj.post("/mj/submit/action", json={"taskId": grid_id, "customId": "MJ::bogus::1"})
    assert bogus.status_code == 200 and bogus.json()["code"] == 4

    r = mj.post(
        "/mj/submit/action",
        json={"taskId": grid_id, "customId": button(grid, "MJ::JOB::upsample::1::")},
    )
    assert r.status_code == 200 and r.json()["code"] == 1
    upscale, _ = until(mj, r.json()["result"], "SUCCESS")
    assert upscale["action"] == "UPSCALE" and upscale["prompt"] == "a blue whale --ar 1:1"
    assert upscale["state"] == ""  # the action sent no state: none is shown

    r = mj.post(
        "/mj/submit/action",
        json={"taskId": upscale["id"], "customId": button(upscale, "MJ::CustomZoom::")},
    )
    assert r.status_code == 200 and r.json()["code"] == 21
    zoom_id = r.json()["result"]
    assert r.json()["properties"]["finalPrompt"] == "a blue whale --ar 1:1"
    waiting = [fetch(mj, zoom_id)["status"] for _ in range(6)]  # both workers answer
    assert waiting == ["MODAL"] * 6

    wrong = mj.post("/mj/submit/modal", json={"taskId": grid_id, "prompt": "x --zoom 1.5"})
    assert wrong.status_code == 200 and wrong.json()["code"] == 4
    r = mj.post(
        "/mj/submit/modal", json={"taskId": zoom_id, "prompt": "a blue whale --ar 1:1 --zoom 1.5"}
    )
    assert r.status_code == 200 and r.json()["code"] == 1 and r.json()["result"] == zoom_id
    done, seen = until(mj, zoom_id, "SUCCESS")
    assert "MODAL" not in seen and done["id"] == zoom_id
    assert done["prompt"] == "a blue whale --ar 1:1 --zoom 1.5"
    again = mj.post("/mj/submit/modal", json={"taskId": zoom_id, "prompt": "again"})
    assert again.json()["code"] == 4  # no longer waiting in MODAL


def test_every_task_has_buttons_of_its_own(mj: httpx.Client) -> None:
    ids = [
        mj.post("/mj/submit/imagine", json={"prompt": f"cat {i}"}).json()["result"] for i in (1, 2)
    ]
    first, second = (until(mj, i, "SUCCESS")[0] for i in ids)
    assert first["prompt"] == "cat 1" and second["prompt"] == "cat 2"
    mine = {b["customId"] for b in first["buttons"]}
    assert mine.isdisjoint(b["customId"] for b in second["buttons"])
    assert first["buttons"] == fetch(mj, ids[0])["buttons"]  # stable from poll to poll
    other = button(second, "MJ::JOB::upsample::1::")
    r = mj.post("/mj/submit/action", json={"taskId": ids[0], "customId": other})
    assert r.json()["code"] == 4  # another task's button is not this task's
