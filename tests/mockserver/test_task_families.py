"""Every task family over HTTP: submits answer polled ids, polls walk each provider's states,
every body matches its contract, result URLs download from the mock, unknown ids are refused."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from contracts.dotted import get_values
from contracts.media import png
from contracts.model import ContractSet, Operation, TaskSpec, TimelineStep
from contracts.validation import Validators
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.tasks import SCENARIOS, new_task_id

AUTH = {"Authorization": "Bearer sk-task-families"}
SPEED = 20.0
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


@pytest.fixture(scope="module")
def url(contracts: ContractSet) -> Iterator[str]:
    """A mock whose tasks run SPEED times faster (for tests that wait for tasks)."""
    with serve_in_thread(create_app(contracts, MockConfig(task_speed=SPEED))) as base:
        yield base


@pytest.fixture(scope="module")
def slow_url(contracts: ContractSet) -> Iterator[str]:
    """A mock at speed 1, for ids made to be a given time old (a second of margin each way)."""
    with serve_in_thread(create_app(contracts, MockConfig())) as base:
        yield base


@pytest.fixture()
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        yield client


@pytest.fixture()
def slow(slow_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slow_url, headers=AUTH, timeout=10) as client:
        yield client


def task(op: Operation) -> TaskSpec:
    assert op.task is not None, op.id
    return op.task


def polls(contracts: ContractSet) -> list[Operation]:
    return [op for op in contracts if op.task_role == "poll"]


def submits(contracts: ContractSet) -> list[Operation]:
    return [op for op in contracts if op.task_role == "submit"]


def poll_request(op: Operation, task_id: str) -> tuple[str, str, Any]:
    """Method, path and JSON body that poll ``task_id`` through ``op``."""
    param = task(op).id_param
    path = op.path.replace("{" + param + "}", task_id)
    for name, schema in op.path_params.items():  # other path parameters: their first value
        if isinstance(schema, dict) and schema.get("enum"):
            path = path.replace("{" + name + "}", str(schema["enum"][0]))
    if "{" + param + "}" not in op.path and op.method == "GET":
        path += f"?{param}={task_id}"
    body = {param: task_id} if op.method == "POST" else None
    return op.method, path, body


def poll(client: httpx.Client, op: Operation, task_id: str) -> httpx.Response:
    method, path, body = poll_request(op, task_id)
    return client.request(method, path, json=body)


def status_of(op: Operation, body: Any) -> str:
    value = get_values(body, task(op).status_field)[0]
    return value if isinstance(value, str) else str(value).lower()


def urls(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for v in node.values():
            yield from urls(v)
    elif isinstance(node, list):
        for v in node:
            yield from urls(v)
    elif isinstance(node, str) and re.match(r"^https?://", node):
        yield node


def check_urls(client: httpx.Client, base: str, body: Any, fetched: set[str]) -> int:
    """Every URL of a kind the mock serves points at the mock and downloads; returns how many."""
    served = 0
    for link in urls(body):
        ext = urlsplit(link).path.rsplit(".", 1)[-1].lower()
        if ext not in SERVED_KINDS or "/hooks/" in link:
            continue
        assert link.startswith(base + FILES_PREFIX), link
        kind = link.rsplit("-", 1)[-1]  # one download per file kind and size is enough
        if kind not in fetched:
            got = client.get(link)
            assert got.status_code == 200 and len(got.content) > 8, link
            fetched.add(kind)
        served += 1
    return served


def expects_files(op: Operation, example: Any) -> bool:
    """True when the example has a result URL of a kind the mock serves."""
    found = [u for p in task(op).result_urls for u in get_values(example.value, p)]
    return any(
        isinstance(u, str) and urlsplit(u).path.rsplit(".", 1)[-1] in SERVED_KINDS for u in found
    )


def example_id(op: Operation) -> str:
    """A task id of the shape the poll's provider uses (from its first example)."""
    like = get_values(op.response.examples[0].value, task(op).id_field)
    return str(like[0]) if like else "rk-like"


def crafted(op: Operation, seconds_ago: float, scenario: str, variant: int = 0) -> str:
    """An id this mock would have issued ``seconds_ago`` (timeline seconds) before now."""
    ms = int(time.time() * 1000 - seconds_ago * 1000)
    return new_task_id(example_id(op), ms, scenario, variant)


def moments(op: Operation) -> list[tuple[float, TimelineStep]]:
    """A time inside each timeline step, with the step."""
    line = task(op).timeline
    out = []
    for i, step in enumerate(line):
        end = line[i + 1].after if i + 1 < len(line) else step.after + 4
        out.append(((step.after + end) / 2, step))
    return out


def test_every_submit_names_a_poll_with_a_timeline(contracts: ContractSet) -> None:
    assert len(polls(contracts)) >= 13 and len(submits(contracts)) >= 30
    for op in submits(contracts):
        assert op.response.render == "task.submit", op.id
        target = contracts.get(task(op).poll)
        assert target.response.render == "task.poll", op.id
    for op in polls(contracts):
        t = task(op)
        assert t.timeline and t.timeline[-1].state == t.success, op.id
        for example in op.response.examples:
            assert status_of(op, example.value) in t.states, (op.id, example.name)
    for op in contracts:
        if op.task_role in ("list", "cancel"):
            assert op.response.render == f"task.{task(op).role}", op.id
            assert contracts.get(task(op).poll).task_role == "poll", op.id


def test_every_poll_walks_its_states_with_valid_bodies(
    slow: httpx.Client, slow_url: str, contracts: ContractSet
) -> None:
    validators = Validators(contracts.components)
    fetched: set[str] = set()
    for op in polls(contracts):
        t = task(op)
        successes = [e for e in op.response.examples if status_of(op, e.value) == t.success]
        for variant in range(max(1, len(successes))):
            progress: list[float] = []
            for seconds, step in moments(op):
                r = poll(slow, op, crafted(op, seconds, "success", variant))
                if r.status_code == 202:  # a running state no example documents (Stability)
                    assert step.state != t.success and r.json()["status"] == step.state
                    continue
                assert r.status_code == 200, (op.id, step, r.text)
                body = r.json()
                assert op.response.schema is not None
                assert validators.problems(op.response.schema, body) == [], (op.id, step)
                assert status_of(op, body) == step.state, (op.id, step)
                if step.has_progress:
                    got = get_values(body, t.progress_field)[0]
                    progress.append(float(str(got).rstrip("%")))
                served = check_urls(slow, slow_url, body, fetched)
                if step.state == t.success and expects_files(op, successes[variant]):
                    assert served, (op.id, variant)
            assert progress == sorted(progress), (op.id, progress)


def test_failure_and_banned_end_in_the_providers_failure(
    slow: httpx.Client, contracts: ContractSet
) -> None:
    validators = Validators(contracts.components)
    for op in polls(contracts):
        t = task(op)
        end = t.timeline[-1].after + 1
        first_change = t.timeline[1].after if len(t.timeline) > 1 else 0
        for scenario, seconds in (("failure", end), ("banned", first_change + 1)):
            r = poll(slow, op, crafted(op, seconds, scenario))
            assert r.status_code == 200, (op.id, scenario, r.text)
            body = r.json()
            assert op.response.schema is not None
            assert validators.problems(op.response.schema, body) == [], (op.id, scenario)
            state = status_of(op, body)
            assert state in t.terminal, (op.id, scenario, state)
            if state == t.success:  # the states cannot say it: the body does (ideogram)
                assert get_values(body, "sampling_requests.*.is_errored") == [True], op.id
        running = poll(slow, op, crafted(op, 0, "banned"))
        assert running.status_code in (200, 202)
        if running.status_code == 200:
            assert status_of(op, running.json()) in t.initial, op.id


def test_unknown_ids_are_refused_in_the_envelope(
    http: httpx.Client, contracts: ContractSet
) -> None:
    validators = Validators(contracts.components)
    for op in polls(contracts):
        for bogus in ("nope", "1730000000000481", new_task_id("x", 1_000_000_000_000)):
            r = poll(http, op, bogus)
            envelope = contracts.envelopes[op.errors.envelope]
            if op.id == "flux.get_result":  # BFL answers 200 {status: "Task not found"}
                not_found = op.example("not-found")
                assert not_found is not None
                assert r.status_code == 200 and r.json() == {**not_found.value, "id": bogus}
                continue
            assert r.status_code == 404, (op.id, bogus, r.text)
            assert validators.problems(envelope.schema, r.json()) == []


def submit_request(op: Operation) -> dict[str, Any]:
    """httpx arguments for the operation's first request example (files for multipart)."""
    value = op.request.examples[0].value if op.request.examples else {}
    if op.request.content_type != "multipart/form-data":
        return {"json": value}
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    data: dict[str, str] = {}
    for name, v in value.items():
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, str) and item.startswith("<binary video"):
                files.append((name, ("clip.mp4", MP4, "video/mp4")))
            elif isinstance(item, str) and item.startswith("<binary"):
                files.append((name, ("frame.png", png(64, 64), "image/png")))
            else:
                data[name] = str(item)
    return {"files": files, "data": data}


def test_every_submit_answers_an_id_its_poll_knows_at_once(
    slow: httpx.Client, contracts: ContractSet
) -> None:
    http = slow
    for op in submits(contracts):
        if "{" in op.path:
            continue  # Luma extend: see test_luma_extend_needs_a_completed_generation
        parent = task(op).parent
        if parent is not None and not parent.optional:
            continue  # MJ action and modal need a task of their own: tests/test_mj_flow.py
        r = http.request(op.method, op.path, **submit_request(op))
        assert r.status_code == 200, (op.id, r.text)
        body = r.json()
        schema = op.response.schema
        assert schema is not None
        assert Validators(contracts.components).problems(schema, body) == [], op.id
        task_id = get_values(body, task(op).id_field)[0]
        example = get_values(op.response.examples[0].value, task(op).id_field)[0]
        assert task_id != example, op.id
        assert len(task_id) == len(str(example)) or task_id.startswith("rk"), op.id
        target = contracts.get(task(op).poll)
        first = poll(http, target, task_id)
        assert first.status_code in (200, 202), (op.id, first.text)
        state = (
            first.json()["status"] if first.status_code == 202 else status_of(target, first.json())
        )
        assert state in task(target).initial, (op.id, state)


def test_luma_extend_needs_a_completed_generation(
    slow: httpx.Client, contracts: ContractSet
) -> None:
    http = slow
    get = contracts.get("luma.generations.get")
    done = crafted(get, 20, "success")
    extended = http.post(f"/luma/generations/{done}/extend", json={"user_prompt": "add cat"})
    assert extended.status_code == 200 and extended.json()["state"] == "pending"
    assert extended.json()["id"] != done
    pending = crafted(get, 0, "success")
    early = http.post(f"/luma/generations/{pending}/extend", json={"user_prompt": "x"})
    assert early.status_code == 400 and "not completed" in early.json()["error"]["message"]
    unknown = http.post("/luma/generations/nope/extend", json={"user_prompt": "x"})
    assert unknown.status_code == 404


FAMILIES = [
    # (submit path, json, poll path template, status path, success, result url path)
    ("/suno/v1/music", {"custom_mode": False, "input": {"gpt_description_prompt": "rain"}},
     "/suno/v1/music/{id}", "data.status", "completed", "data.clips.*.audio_url"),
    ("/suno/v1/v3.0/music", {"custom_mode": False, "input": {"gpt_description_prompt": "rain"}},
     "/suno/v1/v3.0/music/{id}", "data.status", "completed", "data.clips.*.audio_url"),
    ("/luma/generations", {"user_prompt": "cat dance"},
     "/luma/generations/{id}", "state", "completed", "thumbnail.url"),
    ("/luma/v1/generations", {"user_prompt": "tesla"},
     "/luma/v1/generations/{id}", "state", "completed", "thumbnail.url"),
    ("/runwayml/v1/image_to_video",
     {"promptImage": "https://a.example/f.png", "model": "gen3a_turbo"},
     "/runwayml/v1/tasks/{id}", "status", "SUCCEEDED", "output.*"),
    ("/flux/v1/flux-pro-1.1", {"prompt": "a lighthouse"},
     "/flux/v1/get_result?id={id}", "status", "Ready", "result.sample"),
    ("/cogvideox/v1/videos/generations", {"model": "cogvideox", "prompt": "a rabbit"},
     "/cogvideox/v1/async-result/{id}", "task_status", "SUCCESS", "video_result.*.cover_image_url"),
    ("/api/ideogram/generate", {"prompt": "lanterns"},
     "/api/ideogram/task-request", "sampling_requests.*.is_completed", True,
     "sampling_requests.*.responses.*.url"),
]  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f[0])
def test_family_submit_poll_download(http: httpx.Client, url: str, family: tuple[Any, ...]) -> None:
    submit_path, body, poll_path, status_path, success, result_path = family
    submitted = http.post(submit_path, json=body).json()
    task_id = next(v for k in ("id", "request_id", "data") for v in get_values(submitted, k) if v)
    task_id = task_id["task_id"] if isinstance(task_id, dict) else task_id
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if poll_path.startswith("/api/ideogram"):
            r = http.post(poll_path, json={"request_id": task_id})
        else:
            r = http.get(poll_path.format(id=task_id))
        assert r.status_code == 200, r.text
        seen.append(get_values(r.json(), status_path)[0])
        if seen[-1] == success:
            break
        time.sleep(0.05)
    assert seen[-1] == success and len(set(map(str, seen))) >= 2, seen
    results = get_values(r.json(), result_path)
    assert results and all(u.startswith(url + FILES_PREFIX) for u in results), results
    for link in results:
        assert http.get(link).status_code == 200


def test_viggle_and_stability_take_multipart_and_finish(
    http: httpx.Client, contracts: ContractSet
) -> None:
    for submit_id, poll_path, status_path, success in (
        ("viggle.mix.upload_video_generate", "/viggle/video-task/{id}", "data.status", "success"),
        ("stability.image_to_video", "/sd/v2beta/image-to-video/result/{id}", "finish_reason",
         "SUCCESS"),
    ):  # fmt: skip
        op = contracts.get(submit_id)
        answer = http.post(op.path, **submit_request(op)).json()
        task_id = get_values(answer, task(op).id_field)[0]
        statuses = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = http.get(poll_path.format(id=task_id))
            statuses.append(r.status_code)
            if r.status_code == 200 and get_values(r.json(), status_path)[0] == success:
                break
            time.sleep(0.05)
        assert statuses[-1] == 200 and get_values(r.json(), status_path)[0] == success
        if submit_id.startswith("stability"):
            assert statuses[0] == 202 and len(task_id) == 64


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_prefer_task_scenarios_are_accepted(http: httpx.Client, scenario: str) -> None:
    r = http.post(
        "/runwayml/v1/image_to_video",
        json={"promptImage": "https://a.example/f.png", "model": "gen3a_turbo"},
        headers={"Prefer": f"task={scenario}"},
    )
    assert r.status_code == 200 and r.json()["id"]
    bad = http.post(
        "/runwayml/v1/image_to_video",
        json={"promptImage": "https://a.example/f.png", "model": "gen3a_turbo"},
        headers={"Prefer": "task=nope"},
    )
    assert bad.status_code == 400 and "banned" in bad.json()["error"]["message"]


@pytest.mark.parametrize(
    ("submit", "body", "poll_path", "status", "success", "marker", "expected"),
    [
        ("/mj/submit/describe", {"base64": "data:image/png;base64,iVBORw0KGgo="},
         "/mj/task/{id}/fetch", "status", "SUCCESS", "action", "DESCRIBE"),
        ("/mj/submit/imagine", {"prompt": "a fox"},
         "/mj/task/{id}/fetch", "status", "SUCCESS", "action", "IMAGINE"),
        ("/suno/submit/lyrics", {"prompt": "the sea"},
         "/suno/fetch/{id}", "data.status", "SUCCESS", "data.action", "LYRICS"),
        ("/kling/v1/videos/image2video", {"image": "https://a.example/c.png"},
         "/kling/v1/videos/image2video/{id}", "data.task_status", "succeed",
         "data.task_result.videos.*.duration", "5.1"),
    ],
)  # fmt: skip
def test_a_task_ends_in_the_result_of_its_kind(
    http: httpx.Client,
    submit: str,
    body: Any,
    poll_path: str,
    status: str,
    success: str,
    marker: str,
    expected: str,
) -> None:
    answer = http.post(submit, json=body).json()
    task_id = next(v for k in ("result", "data.task_id", "data") for v in get_values(answer, k))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        polled = http.get(poll_path.format(id=task_id)).json()
        if get_values(polled, status) == [success]:
            break
        time.sleep(0.05)
    assert get_values(polled, status) == [success]
    assert get_values(polled, marker) == [expected]


def test_by_id_lists_without_ids_list_nothing(http: httpx.Client) -> None:
    task_id = http.post("/mj/submit/imagine", json={"prompt": "a fox"}).json()["result"]
    assert http.post("/mj/task/list-by-condition", json={}).json() == []
    assert http.post("/mj/task/list-by-condition", json={"ids": None}).json() == []
    assert http.post("/suno/fetch", json={"ids": ["nope"]}).json()["data"] == []
    assert task_id in {t["id"] for t in http.get("/mj/task/list").json()}
