"""Tasks remember what was submitted (issue 12, item 3), through httpx against the mock:
Suno titles, tags, mv, clip ids and continuations; Luma's aspect ratio; Kling's duration;
Flux's size; notify hooks only when given; every documented state reachable by a
``Prefer: task=`` scenario. The Midjourney flow runs against `relaykit serve --workers 2` in
tests/test_mj_flow.py."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.dotted import get_values
from contracts.model import ContractSet
from mockserver import MockConfig, create_app, task_facts
from mockserver.background import serve_in_thread
from mockserver.state import open_store

AUTH = {"Authorization": "Bearer sk-task-memory"}


@pytest.fixture(scope="module")
def http(contracts: ContractSet) -> Iterator[httpx.Client]:
    app = create_app(contracts, MockConfig(task_speed=50))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as client:
        yield client


@pytest.fixture(scope="module")
def slow(contracts: ContractSet) -> Iterator[httpx.Client]:
    """Speed 1: a waiting state asked for lasts the timeline's first step (a second or two)."""
    app = create_app(contracts, MockConfig())
    with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH) as client:
        yield client


def until(http: httpx.Client, path: str, status_at: str, state: str, **kw: Any) -> Any:
    for _ in range(200):
        r = http.get(path, **kw)
        assert r.status_code == 200, r.text
        if get_values(r.json(), status_at) == [state]:
            return r.json()
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {state}")


def suno(http: httpx.Client, body: dict[str, Any]) -> tuple[str, Any]:
    r = http.post("/suno/submit/music", json=body)
    assert r.status_code == 200, r.text
    task_id = r.json()["data"]
    return task_id, until(http, f"/suno/fetch/{task_id}", "data.status", "SUCCESS")["data"]


def test_suno_remembers_title_tags_mv_and_gives_each_task_its_own_clips(
    http: httpx.Client,
) -> None:
    song = {"prompt": "la la", "tags": "surf rock", "mv": "chirp-v4", "make_instrumental": False}
    first_id, first = suno(http, {**song, "title": "Wave"})
    second_id, second = suno(http, {**song, "title": "Tide", "notify_hook": "http://127.0.0.1:9/h"})
    for task, title in ((first, "Wave"), (second, "Tide")):
        assert {c["title"] for c in task["data"]} == {title}
        assert {c["model_name"] for c in task["data"]} == {"chirp-v4"}
        assert {c["metadata"]["tags"] for c in task["data"]} == {"surf rock"}
        assert {c["metadata"]["prompt"] for c in task["data"]} == {"la la"}
        assert abs(task["submit_time"] - time.time()) < 60
    assert first["notify_hook"] == "" and second["notify_hook"] == "http://127.0.0.1:9/h"
    clips = [c["id"] for c in first["data"]]
    assert len(set(clips)) == len(clips) and set(clips).isdisjoint(c["id"] for c in second["data"])

    more = {"prompt": "coda", "mv": "chirp-v4", "task_id": first_id, "continue_at": 30}
    ok = http.post("/suno/submit/music", json={**more, "continue_clip_id": clips[1]})
    assert ok.status_code == 200 and ok.json()["data"] not in (first_id, second_id)
    foreign = second["data"][0]["id"]  # a clip of another task
    refused = http.post("/suno/submit/music", json={**more, "continue_clip_id": foreign})
    assert refused.status_code == 404 and refused.json()["code"] == "task_not_exist"
    unknown = http.post(
        "/suno/submit/music",
        json={
            **more,
            "task_id": "0b9f6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "continue_clip_id": foreign,
        },
    )
    assert unknown.status_code == 404


def test_luma_keeps_the_prompt_and_aspect_ratio(http: httpx.Client) -> None:
    r = http.post("/luma/generations", json={"user_prompt": "a heron", "aspect_ratio": "9:16"})
    assert r.status_code == 200 and r.json()["prompt"] == "a heron"
    done = until(http, f"/luma/generations/{r.json()['id']}", "state", "completed")
    assert done["request"] == {"prompt": "a heron", "aspect_ratio": "9:16"}
    assert done["prompt"] == "a heron" and done["created_at"].startswith(time.strftime("%Y-"))


def test_kling_keeps_a_ten_second_duration(http: httpx.Client) -> None:
    r = http.post("/kling/v1/videos/text2video", json={"prompt": "a pig", "duration": "10"})
    task_id = r.json()["data"]["task_id"]
    done = until(http, f"/kling/v1/videos/text2video/{task_id}", "data.task_status", "succeed")
    assert [v["duration"] for v in done["data"]["task_result"]["videos"]] == ["10"]


def test_flux_serves_the_size_asked_for(http: httpx.Client) -> None:
    r = http.post("/flux/v1/flux-pro", json={"prompt": "a harbour", "width": 512, "height": 768})
    task_id = r.json()["id"]
    done = until(http, "/flux/v1/get_result", "status", "Ready", params={"id": task_id})
    assert done["result"]["prompt"] == "a harbour"
    sample = done["result"]["sample"]
    assert "-512x768." in sample
    image = http.get(sample)
    assert image.status_code == 200
    if image.content.startswith(b"\x89PNG"):  # the served bytes are drawn to that size
        assert struct.unpack(">II", image.content[16:24]) == (512, 768)


RUNWAY = {"promptImage": "https://a.example/f.png", "model": "gen3a_turbo"}
STATES = [
    ("/mj/submit/imagine", {"prompt": "a fox"}, "/mj/task/{id}/fetch", "result", "status",
     "not-start", "NOT_START"),
    ("/suno/submit/music", {"prompt": "la"}, "/suno/fetch/{id}", "data", "data.status",
     "queued", "QUEUED"),
    ("/runwayml/v1/image_to_video", RUNWAY,
     "/runwayml/v1/tasks/{id}", "id", "status", "THROTTLED", "THROTTLED"),
    ("/runwayml/v1/image_to_video", RUNWAY,
     "/runwayml/v1/tasks/{id}", "id", "status", "cancelled", "CANCELLED"),
    ("/flux/v1/flux-pro", {"prompt": "x"}, "/flux/v1/get_result?id={id}", "id", "status",
     '"Request Moderated"', "Request Moderated"),
    ("/flux/v1/flux-pro", {"prompt": "x"}, "/flux/v1/get_result?id={id}", "id", "status",
     "content-moderated", "Content Moderated"),
]  # fmt: skip


@pytest.mark.parametrize(("submit", "body", "poll", "id_at", "status_at", "asked", "shown"), STATES)
def test_every_documented_state_is_reachable_by_prefer(
    http: httpx.Client,
    slow: httpx.Client,
    submit: str,
    body: dict[str, Any],
    poll: str,
    id_at: str,
    status_at: str,
    asked: str,
    shown: str,
) -> None:
    if shown in ("NOT_START", "QUEUED", "THROTTLED"):  # waits first: seen at once at speed 1
        http = slow
    r = http.post(submit, json=body, headers={"Prefer": f"task={asked}"})
    assert r.status_code == 200, r.text
    task_id = get_values(r.json(), id_at)[0]
    seen = []
    for _ in range(100):
        seen.append(get_values(http.get(poll.format(id=task_id)).json(), status_at)[0])
        if seen[-1] == shown:
            break
        time.sleep(0.01)
    assert seen[-1] == shown, seen


def test_a_state_the_poll_does_not_have_is_refused(http: httpx.Client) -> None:
    r = http.post("/suno/submit/music", json={"prompt": "la"}, headers={"Prefer": "task=MODAL"})
    assert r.status_code == 400 and "QUEUED" in r.json()["message"]


def test_facts_merge_across_calls_and_survive_a_new_connection(tmp_path: Path) -> None:
    state = open_store(state_dir=str(tmp_path))
    task_facts.remember(state, "t1", {"answer": {"prompt": "a"}, "waits": "MODAL"})
    task_facts.remember(state, "t1", {"answer": {"title": "b"}, "resumed_ms": 5})
    assert task_facts.recall(open_store(state_dir=str(tmp_path)), "t1") == {
        "answer": {"prompt": "a", "title": "b"},
        "waits": "MODAL",
        "resumed_ms": 5,
    }
    assert task_facts.recall(state, "t2") == {} and task_facts.recall(None, "t1") == {}
