"""The rest new-api serves beyond the seeds (issue 13, item 4), through real clients: rerank
and the key quota with httpx, moderations and the video jobs with the official openai SDK."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import openai
import pytest
from PIL import Image

from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread
from tests.conftest import GOOD_KEY

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")
AUTH = {"Authorization": f"Bearer {GOOD_KEY}"}
CAPITALS = [
    "Carson City is the capital city of the American state of Nevada.",
    "The Northern Mariana Islands are a group of islands. Its capital is Saipan.",
    "Washington, D.C. is the capital of the United States.",
    "Capital punishment has existed in the United States since before it was a country.",
]


@pytest.fixture(scope="module")
def fast_url(contracts: ContractSet) -> Iterator[str]:
    """A mock whose tasks run 40 times faster than their timelines (a video in 0.1 s)."""
    with serve_in_thread(create_app(contracts, MockConfig(task_speed=40))) as url:
        yield url


@pytest.fixture()
def sdk(fast_url: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{fast_url}/v1", api_key=GOOD_KEY, _strict_response_validation=True
    )


# --- rerank ------------------------------------------------------------------------------------


def test_rerank_sorts_by_overlap_and_cuts_to_top_n(mock_url: str) -> None:
    query = "What is the capital of the United States?"
    body = {"model": "jina-reranker-v2-base-multilingual", "query": query, "documents": CAPITALS}
    r = httpx.post(f"{mock_url}/v1/rerank", json={**body, "top_n": 2}, headers=AUTH)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 2 and results[0]["index"] == 2  # holds every word of the query
    assert results[0]["relevance_score"] > results[1]["relevance_score"]
    assert results[0]["document"] == {"text": CAPITALS[2]}
    usage = r.json()["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] > 0
    again = httpx.post(f"{mock_url}/v1/rerank", json={**body, "top_n": 2}, headers=AUTH)
    assert again.json()["results"] == results  # deterministic


def test_rerank_objects_without_documents(mock_url: str) -> None:
    docs = [{"text": "bananas are yellow"}, {"text": "organic skincare for sensitive skin"}]
    body = {"model": "rerank-v3.5", "query": "skincare", "documents": docs}
    r = httpx.post(f"{mock_url}/v1/rerank", json={**body, "return_documents": False}, headers=AUTH)
    results = r.json()["results"]
    assert [x["index"] for x in results] == [1, 0]
    assert all("document" not in x for x in results)
    r = httpx.post(f"{mock_url}/v1/rerank", json=body, headers=AUTH)
    assert r.json()["results"][0]["document"] == docs[1]


def test_rerank_without_documents_is_a_400(mock_url: str) -> None:
    r = httpx.post(f"{mock_url}/v1/rerank", json={"model": "m", "query": "q"}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "documents"


# --- moderations -------------------------------------------------------------------------------


def test_moderation_of_a_string_through_the_sdk(client: openai.OpenAI) -> None:
    m = client.moderations.create(input="I want to kill them.")
    assert m.id.startswith("modr-") and m.model == "omni-moderation-latest"
    (result,) = m.results
    assert result.flagged and result.categories.violence
    assert result.category_scores.violence >= 0.9 > result.category_scores.sexual
    assert not result.categories.sexual
    assert result.category_applied_input_types.violence == ["text"]


def test_moderation_of_texts_and_of_a_multimodal_input(client: openai.OpenAI) -> None:
    m = client.moderations.create(input=["Have a lovely day.", "I will attack you."])
    assert [r.flagged for r in m.results] == [False, True]
    m = client.moderations.create(
        model="omni-moderation-latest",
        input=[
            {"type": "text", "text": "a quiet lake"},
            {"type": "image_url", "image_url": {"url": "https://example.com/lake.png"}},
        ],
    )
    (result,) = m.results
    assert not result.flagged
    assert result.category_applied_input_types.violence == ["text", "image"]
    assert result.category_applied_input_types.hate == ["text"]


# --- videos ------------------------------------------------------------------------------------


def test_video_lifecycle_through_the_sdk(sdk: openai.OpenAI) -> None:
    video = sdk.videos.create(prompt="a cat at a piano", model="sora-2", seconds="4")
    assert video.status == "queued" and video.progress == 0 and video.id.startswith("video_")
    done = sdk.videos.poll(video.id, poll_interval_ms=20)
    assert done.status == "completed" and done.progress == 100
    mp4 = sdk.videos.download_content(video.id).content
    assert mp4[4:8] == b"ftyp"
    thumbnail = sdk.videos.download_content(video.id, variant="thumbnail").read()
    thumb = Image.open(io.BytesIO(thumbnail))
    sprites = sdk.videos.download_content(video.id, variant="spritesheet").read()
    assert thumb.format == "WEBP" and thumb.size[1] == 512
    assert Image.open(io.BytesIO(sprites)).format == "JPEG"
    assert video.id in [v.id for v in sdk.videos.list()]
    gone = sdk.videos.delete(video.id)
    assert gone.id == video.id and gone.deleted and gone.object == "video.deleted"


def test_video_progress_rises_while_in_progress(contracts: ContractSet) -> None:
    seen: list[tuple[str, int]] = []
    with serve_in_thread(create_app(contracts, MockConfig(task_speed=4))) as url:
        sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x")
        video = sdk.videos.create(prompt="waves", size="1280x720")
        with pytest.raises(openai.NotFoundError):
            sdk.videos.download_content(video.id)  # not completed yet
        while not seen or seen[-1][0] not in ("completed", "failed"):
            v = sdk.videos.retrieve(video.id)
            seen.append((v.status, v.progress))
    states = [s for s, _ in seen]
    assert states[-1] == "completed"
    assert set(states) <= {"queued", "in_progress", "completed"}
    progress = [p for _, p in seen]
    assert progress == sorted(progress)


def test_video_failure_scenario(sdk: openai.OpenAI) -> None:
    video = sdk.videos.create(prompt="x", extra_headers={"Prefer": "task=failure"})
    done = sdk.videos.poll(video.id, poll_interval_ms=20)
    assert done.status == "failed" and done.error is not None and done.error.code
    with pytest.raises(openai.NotFoundError):
        sdk.videos.download_content(video.id)


def test_video_create_with_a_reference_image(sdk: openai.OpenAI) -> None:
    png = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(png, "PNG")
    video = sdk.videos.create(
        prompt="the room", input_reference=("ref.png", png.getvalue(), "image/png")
    )
    assert video.status == "queued"


def test_video_list_pages_with_after_and_limit(sdk: openai.OpenAI) -> None:
    ids = [sdk.videos.create(prompt=f"clip {i}").id for i in range(3)]
    page = sdk.videos.list(limit=2)
    assert len(page.data) == 2 and page.has_more
    every = [v.id for v in sdk.videos.list(limit=2)]  # the SDK pages on with after=last_id
    assert set(ids) <= set(every) and len(every) == len(set(every))
    oldest_first = [v.id for v in sdk.videos.list(order="asc", limit=100).data]
    assert [i for i in oldest_first if i in ids] == ids


def test_unknown_video_is_a_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve("video_0123456789abcdef0123456789abcdef")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.delete("video_0123456789abcdef0123456789abcdef")


# --- new-api key quota -------------------------------------------------------------------------


def test_token_usage(mock_url: str) -> None:
    r = httpx.get(f"{mock_url}/api/usage/token", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["code"] is True and body["message"] == "ok"
    data = body["data"]
    assert data["object"] == "token_usage"
    assert data["total_granted"] == data["total_used"] + data["total_available"]


def test_token_usage_without_a_key_in_new_apis_shape(mock_url: str) -> None:
    r = httpx.get(f"{mock_url}/api/usage/token")
    assert r.status_code == 401
    assert r.json()["success"] is False and r.json()["message"]
