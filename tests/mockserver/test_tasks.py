"""Async tasks progress across worker processes and end with result files the mock serves."""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import httpx
import pytest

from mockserver.tasks import decode_task_id, new_task_id, state_at
from tests.serving import relaykit_serve

AUTH = {"Authorization": "Bearer sk-task-test"}


def test_task_ids_keep_the_provider_shape_and_decode() -> None:
    for like in (
        "1730000000000481",
        "3b9f6a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "Cji7cGctxFMAAAAAAEU5sQ",
    ):
        new = new_task_id(like, 1_763_000_000_123, "failure")
        assert decode_task_id(new) == decode_task_id(new) is not None
        assert decode_task_id(new).submitted_ms == 1_763_000_000_123  # type: ignore[union-attr]
        assert decode_task_id(new).scenario == "failure"  # type: ignore[union-attr]
    assert new_task_id("1730000000000481", 1, "success").isdigit()
    assert decode_task_id("not-ours") is None


def test_state_follows_the_timeline() -> None:
    task = {
        "success": "SUCCESS",
        "terminal": ["SUCCESS", "FAILURE"],
        "timeline": [{"after": 0, "state": "SUBMITTED"}, {"after": 2, "state": "SUCCESS"}],
    }
    assert state_at(task, 1, "success")["state"] == "SUBMITTED"
    assert state_at(task, 3, "success")["state"] == "SUCCESS"
    assert state_at(task, 3, "failure")["state"] == "FAILURE"


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


def test_mj_imagine_reaches_success_with_a_png(workers_url: str) -> None:
    with httpx.Client(base_url=workers_url, headers={"mj-api-secret": "sk-mj"}, timeout=10) as c:
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
    with httpx.Client(base_url=workers_url, headers=AUTH, timeout=10) as c:
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
    with httpx.Client(base_url=workers_url, headers=AUTH, timeout=10) as c:
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
    with httpx.Client(base_url=workers_url, headers=AUTH, timeout=10) as c:
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
