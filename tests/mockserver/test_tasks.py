"""Async tasks progress across worker processes and end with result files the mock serves."""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import httpx
import pytest

from contracts.loader import task_spec
from contracts.model import ContractSet
from contracts.validation import Validators
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.state import open_store
from mockserver.tasks import (
    SCENARIOS,
    TaskId,
    cancel_state,
    changes,
    decode_task_id,
    failure_state,
    is_current,
    new_task_id,
    state_at,
)
from tests.serving import relaykit_serve

AUTH = {"Authorization": "Bearer sk-task-test"}


def test_task_ids_keep_the_provider_shape_and_decode() -> None:
    for like in (
        "1730000000000481",
        "3b9f6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "Cji7cGctxFMAAAAAAEU5sQ",
        "a6dc6c6e20acda010fe14d71f180658f2896ed9b4ec25aa99a6ff06c796987c4",
    ):
        for scenario in SCENARIOS:
            for variant in (0, 1, 2):
                new = new_task_id(like, 1_763_000_000_123, scenario, variant)
                assert decode_task_id(new) == TaskId(1_763_000_000_123, scenario, variant), like
    assert new_task_id("1730000000000481", 1, "success").isdigit()
    assert len(new_task_id("1730000000000481", 1_763_000_000_123)) == 16
    stability = new_task_id("a6dc6c6e20acda010fe14d71f180658f2896ed9b4ec25aa99a6ff06c796987c4", 1)
    assert len(stability) == 64 and int(stability, 16) >= 0
    assert decode_task_id("not-ours") is None


def test_ids_only_count_when_recent() -> None:
    now = 1_800_000_000_000
    assert is_current(TaskId(now - 1000, "success"), now)
    assert not is_current(TaskId(now - 8 * 24 * 3600 * 1000, "success"), now)
    assert not is_current(TaskId(now + 3_600_000, "success"), now)
    assert decode_task_id("1730000000000481") is not None  # an example id: decodes, but is old
    assert not is_current(decode_task_id("1730000000000481"), now)  # type: ignore[arg-type]


TASK = task_spec(
    {
        "role": "poll",
        "success": "SUCCESS",
        "terminal": ["SUCCESS", "FAILURE", "CANCEL"],
        "timeline": [
            {"after": 0, "state": "SUBMITTED", "progress": "0%"},
            {"after": 1, "state": "IN_PROGRESS", "progress": "15%"},
            {"after": 2, "state": "IN_PROGRESS", "progress": "62%"},
            {"after": 3, "state": "SUCCESS", "progress": "100%"},
        ],
    }
)


def test_state_follows_the_timeline() -> None:
    assert state_at(TASK, 0.5, "success").state == "SUBMITTED"
    assert state_at(TASK, 2.5, "success").progress == "62%"
    assert state_at(TASK, 3, "success").state == "SUCCESS"
    assert state_at(TASK, 3, "failure").state == "FAILURE"
    assert not state_at(TASK, 3, "failure").has_progress
    assert state_at(TASK, 2.5, "failure").state == "IN_PROGRESS"
    assert state_at(TASK, 0.5, "banned").state == "SUBMITTED"
    assert state_at(TASK, 1.5, "banned").state == "FAILURE"
    assert cancel_state(TASK) == "CANCEL"
    assert changes(TASK, "success") == [0, 1, 3]
    assert changes(TASK, "banned") == [0, 1]


def test_a_failure_the_states_cannot_express_is_marked_failed() -> None:
    timeline = [{"after": 0, "state": "false"}, {"after": 4, "state": "true"}]
    task = task_spec(
        {"role": "poll", "success": "true", "terminal": ["true"], "timeline": timeline}
    )
    step = state_at(task, 5, "failure")
    assert step.state == "true" and step.failed
    assert not state_at(task, 5, "success").failed


def test_the_failure_state_prefers_a_documented_one() -> None:
    task = task_spec(
        {"role": "poll", "success": "Ready", "terminal": ["Ready", "Error", "Content Moderated"]}
    )
    assert failure_state(task) == "Error"
    assert failure_state(task, {"Pending", "Content Moderated"}) == "Content Moderated"


def poll_until(
    client: httpx.Client, path: str, status: Any, done: set[str]
) -> list[dict[str, Any]]:
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(path).json()
        seen.append(body)
        if status(body) in done:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"no terminal state; last {seen[-1]}")


def is_png(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    zlib.decompress(data[data.index(b"IDAT") + 4 :])  # the image data inflates
    return width, height


@pytest.fixture(scope="module")
def workers_url() -> Any:
    with relaykit_serve("--workers", "2", "--task-speed", "4") as url:
        yield url


def fresh(url: str, headers: dict[str, str]) -> httpx.Client:
    """A client that opens a new connection per request, so every worker gets to answer."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=url, headers=headers, timeout=10, limits=limits)


def test_mj_imagine_reaches_success_with_a_png(workers_url: str) -> None:
    with fresh(workers_url, {"mj-api-secret": "sk-mj"}) as c:
        submit = c.post("/mj/submit/imagine", json={"prompt": "a red fox"}).json()
        assert submit["code"] == 1 and submit["result"].isdigit()
        seen = poll_until(
            c, f"/mj/task/{submit['result']}/fetch", lambda b: b["status"], {"SUCCESS", "FAILURE"}
        )
        assert seen[0]["id"] == submit["result"] and seen[-1]["status"] == "SUCCESS"
        progress = [int(b["progress"].rstrip("%")) for b in seen if b.get("progress")]
        assert progress == sorted(progress) and progress[-1] == 100
        image = httpx.get(seen[-1]["imageUrl"], timeout=10)
        assert image.headers["content-type"] == "image/png" and is_png(image.content)


def test_mj_failure_scenario(workers_url: str) -> None:
    with fresh(workers_url, AUTH) as c:
        task_id = c.post(
            "/mj/submit/imagine", json={"prompt": "x"}, headers={"Prefer": "task=failure"}
        ).json()["result"]
        seen = poll_until(
            c, f"/mj/task/{task_id}/fetch", lambda b: b["status"], {"SUCCESS", "FAILURE"}
        )
        assert seen[-1]["status"] == "FAILURE"


def test_unknown_task_is_a_404_in_the_envelope(workers_url: str) -> None:
    r = httpx.get(f"{workers_url}/mj/task/12345/fetch", headers=AUTH)
    assert r.status_code == 404 and r.json()["code"] == 4


def test_suno_reaches_success_with_an_mp3(workers_url: str) -> None:
    with fresh(workers_url, AUTH) as c:
        submit = c.post(
            "/suno/submit/music",
            json={
                "gpt_description_prompt": "a calm song",
                "make_instrumental": False,
                "mv": "chirp-v3-5",
            },
        )
        task_id = submit.json()["data"]
        seen = poll_until(
            c, f"/suno/fetch/{task_id}", lambda b: b["data"]["status"], {"SUCCESS", "FAILURE"}
        )
        assert seen[0]["data"]["status"] in (
            "SUBMITTED",
            "NOT_START",
            "QUEUED",
            "IN_PROGRESS",
        )
        final = seen[-1]["data"]
        assert final["status"] == "SUCCESS" and final["task_id"] == task_id
        audio = httpx.get(final["data"][0]["audio_url"], timeout=10)
        assert audio.headers["content-type"] == "audio/mpeg" and audio.content[:2] == b"\xff\xfb"


def test_kling_reaches_succeed(workers_url: str) -> None:
    with fresh(workers_url, AUTH) as c:
        submit = c.post(
            "/kling/v1/videos/text2video",
            json={"prompt": "a cat surfing", "model_name": "kling-v1"},
        ).json()
        task_id = submit["data"]["task_id"]
        seen = poll_until(
            c,
            f"/kling/v1/videos/text2video/{task_id}",
            lambda b: b["data"]["task_status"],
            {"succeed", "failed"},
        )
        states = [b["data"]["task_status"] for b in seen]
        assert states[0] == "submitted" and states[-1] == "succeed" and "processing" in states
        video = seen[-1]["data"]["task_result"]["videos"][0]["url"]
        if "mp4" in SERVED_KINDS:
            assert video.startswith(workers_url + FILES_PREFIX)
            got = httpx.get(video, timeout=10)
            assert got.status_code == 200 and got.content[4:8] == b"ftyp"
        else:
            assert video.startswith("https://cdn.relaykit.example/")


def test_kling_image_task_ends_in_images_the_mock_serves(workers_url: str) -> None:
    with fresh(workers_url, AUTH) as c:
        submit = c.post("/kling/v1/images/generations", json={"prompt": "two cats", "n": 2}).json()
        task_id = submit["data"]["task_id"]
        seen = poll_until(
            c,
            f"/kling/v1/images/generations/{task_id}",
            lambda b: b["data"]["task_status"],
            {"succeed", "failed"},
        )
        result = seen[-1]["data"]["task_result"]
        assert "videos" not in result and len(result["images"]) == 2
        for image in result["images"]:
            assert is_png(httpx.get(image["url"], timeout=10).content)


def test_mj_banned_prompt_is_refused_at_submit(workers_url: str) -> None:
    r = httpx.post(
        f"{workers_url}/mj/submit/imagine",
        json={"prompt": "x"},
        headers={**AUTH, "Prefer": "task=banned"},
    )
    assert r.status_code == 200
    assert r.json()["code"] == 24 and "result" not in r.json()


def test_mj_cancel_list_and_queue_agree_across_workers(
    workers_url: str, contracts: ContractSet
) -> None:
    validators = Validators(contracts.components)

    def valid(op_id: str, body: Any) -> Any:
        schema = contracts.get(op_id).response.schema
        assert schema is not None and validators.problems(schema, body) == [], op_id
        return body

    with fresh(workers_url, AUTH) as c:
        ids = [
            c.post("/mj/submit/imagine", json={"prompt": f"fox {i}"}).json()["result"]
            for i in range(3)
        ]
        cancelled = ids[0]
        assert c.post(f"/mj/task/{cancelled}/cancel").json()["code"] == 1
        for _ in range(6):  # every worker knows the cancel
            assert c.get(f"/mj/task/{cancelled}/fetch").json()["status"] == "CANCEL"
        queue = valid("mj.task.queue", c.get("/mj/task/queue").json())
        queued = [t["id"] for t in queue]
        assert cancelled not in queued and set(ids[1:]) <= set(queued)
        assert [t["submitTime"] for t in queue] == sorted(t["submitTime"] for t in queue)
        listed = valid("mj.task.list", c.get("/mj/task/list").json())
        assert set(ids) <= {t["id"] for t in listed}
        mine = [t for t in listed if t["id"] in ids]
        assert [t["id"] for t in mine] == ids[::-1]  # newest first
        by_ids = valid(
            "mj.task.list_by_condition",
            c.post("/mj/task/list-by-condition", json={"ids": [*ids, "12345"]}).json(),
        )
        assert [t["id"] for t in by_ids] == ids and by_ids[0]["status"] == "CANCEL"
        shown = valid(
            "mj.task.list_by_condition.displays",
            c.post("/mj/task/list-by-ids", json={"ids": ids}).json(),
        )
        assert shown[0]["displays"]["status"] == "已取消"
        page = valid(
            "mj.task.query_page",
            c.post("/mj/task/query", json={"ids": ids, "pageSize": 2, "pageNumber": 1}).json(),
        )
        assert page["totalElements"] == 3 and page["totalPages"] == 2 and page["number"] == 1
        assert [t["id"] for t in page["content"]] == [ids[0]] and page["last"] is True
        done = poll_until(
            c, f"/mj/task/{ids[2]}/fetch", lambda b: b["status"], {"SUCCESS", "FAILURE"}
        )
        assert done[-1]["status"] == "SUCCESS"
        assert c.post(f"/mj/task/{ids[2]}/cancel").json()["code"] == 4  # finished: not cancellable
        assert not set(ids) & {t["id"] for t in c.get("/mj/task/queue").json()}
        filtered = c.post("/mj/task/query", json={"ids": ids, "status": "SUCCESS"}).json()
        assert {t["id"] for t in filtered["content"]} == set(ids[1:])
        assert c.post("/mj/task/12345/cancel").status_code == 404


def test_suno_batch_shows_the_submitted_tasks(workers_url: str, contracts: ContractSet) -> None:
    with fresh(workers_url, AUTH) as c:
        music = c.post("/suno/submit/music", json={"gpt_description_prompt": "calm"}).json()
        lyrics = c.post("/suno/submit/lyrics", json={"prompt": "the sea"}).json()
        batch = c.post("/suno/fetch", json={"ids": [music["data"], lyrics["data"], "x"]}).json()
        schema = contracts.get("suno.fetch.batch").response.schema
        assert schema is not None
        assert Validators(contracts.components).problems(schema, batch) == []
        assert [t["task_id"] for t in batch["data"]] == [music["data"], lyrics["data"]]
        for task in batch["data"]:
            alone = c.get(f"/suno/fetch/{task['task_id']}").json()["data"]
            assert task["status"] == alone["status"]


def test_the_store_lists_newest_first_and_keeps_the_first_cancel(tmp_path: Any) -> None:
    store = open_store(state_dir=str(tmp_path))
    for i, task_id in enumerate(("a", "b", "c")):
        store.record_submit("mj.task.fetch", task_id, 1000 + i)
    store.record_submit("suno.fetch.single", "s", 5000)
    store.record_submit("mj.task.fetch", "a", 9999)  # a second record is ignored
    assert [s.task_id for s in store.submitted("mj.task.fetch")] == ["c", "b", "a"]
    assert store.submitted("mj.task.fetch", limit=1)[0].submitted_ms == 1002
    assert store.cancelled_at("b") is None
    assert store.record_cancel("b", 2000) == 2000
    assert store.record_cancel("b", 3000) == 2000
    assert store.cancelled_at("b") == 2000
    missing = open_store(state_dir=str(tmp_path / "gone" / "deeper"))
    assert missing.submitted("mj.task.fetch") == []  # an unusable store degrades
    assert missing.record_cancel("b", 1) is None
