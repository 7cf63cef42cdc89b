"""Media fidelity (issue 12, item 4) through real clients: Stability's raw image answers and
output_format, result files in the format their name says, speech and transcription streams,
and an OpenAPI export that lists every content type a success can have. Image bytes are
decoded with Pillow, a decoder nobody here wrote."""

from __future__ import annotations

import base64
import io
import json

import httpx
import openai
import pytest
from httpx_sse import connect_sse
from PIL import Image

from contracts.media import asset

AUTH = {"Authorization": "Bearer sk-anything"}
CORE = "/sd/v2beta/stable-image/generate/core"
FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}


def decoded(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()  # decodes every pixel, not only the header
    return picture


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_stability_accept_image_gives_raw_bytes_in_output_format(mock_url: str, fmt: str) -> None:
    form = {"prompt": (None, "a red fox"), "output_format": (None, fmt), "seed": (None, "42")}
    form["aspect_ratio"] = (None, "16:9")
    r = httpx.post(f"{mock_url}{CORE}", headers={**AUTH, "Accept": "image/*"}, files=form)
    assert r.status_code == 200, r.text
    name, media_type = FORMATS[fmt]
    assert r.headers["content-type"] == media_type
    assert r.headers["finish-reason"] == "SUCCESS" and r.headers["seed"] == "42"
    picture = decoded(r.content)
    assert picture.format == name and picture.size[0] > picture.size[1]  # 16:9


def test_stability_json_carries_the_output_format_bytes(mock_url: str) -> None:
    form = {"prompt": (None, "a red fox"), "output_format": (None, "jpeg")}
    for accept in ("application/json", "*/*"):
        r = httpx.post(f"{mock_url}{CORE}", headers={**AUTH, "Accept": accept}, files=form)
        assert r.headers["content-type"] == "application/json"
        body = r.json()
        assert body["finish_reason"] == "SUCCESS" and isinstance(body["seed"], int)
        assert decoded(base64.b64decode(body["image"])).format == "JPEG"


def test_stability_filtered_travels_in_the_header(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}{CORE}",
        headers={**AUTH, "Accept": "image/*", "Prefer": "example=filtered"},
        files={"prompt": (None, "x")},
    )
    assert r.headers["finish-reason"] == "CONTENT_FILTERED"
    assert decoded(r.content).format == "PNG"  # png by default


@pytest.mark.parametrize(
    ("name", "media_type", "kind"),
    [
        ("a-64x32.jpg", "image/jpeg", "JPEG"),
        ("b-64x32.jpeg", "image/jpeg", "JPEG"),
        ("c-64x32.webp", "image/webp", "WEBP"),
        ("d-64x32.png", "image/png", "PNG"),
    ],
)
def test_result_files_are_served_in_the_format_their_name_says(
    mock_url: str, name: str, media_type: str, kind: str
) -> None:
    r = httpx.get(f"{mock_url}/_relaykit/files/{name}")
    assert r.headers["content-type"] == media_type
    picture = decoded(r.content)
    assert (picture.format, picture.size) == (kind, (64, 32))


def test_speech_sse_streams_the_same_audio_in_pieces(client: openai.OpenAI) -> None:
    whole = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="coral", input="Hello there!", response_format="wav"
    ).content
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts",
        voice="coral",
        input="Hello there!",
        response_format="wav",
        stream_format="sse",
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data:")]
    parsed = [json.loads(e) for e in events]
    deltas = [e for e in parsed if e["type"] == "speech.audio.delta"]
    assert len(deltas) > 1 and parsed[-1]["type"] == "speech.audio.done"
    assert b"".join(base64.b64decode(e["audio"]) for e in deltas) == whole
    usage = parsed[-1]["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_speech_sse_read_by_an_sse_client(mock_url: str) -> None:
    body = {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "Hi", "stream_format": "sse"}
    with (
        httpx.Client(headers=AUTH) as http,
        connect_sse(http, "POST", f"{mock_url}/v1/audio/speech", json=body) as source,
    ):
        events = [sse.json() for sse in source.iter_sse()]
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert audio == asset("mp3")[0] and events[-1]["type"] == "speech.audio.done"


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_transcription_stream_through_the_sdk(client: openai.OpenAI, model: str) -> None:
    wav = asset("wav")[0]
    plain = client.audio.transcriptions.create(model=model, file=("a.wav", wav, "audio/wav"))
    stream = client.audio.transcriptions.create(
        model=model, file=("a.wav", wav, "audio/wav"), stream=True
    )
    events = list(stream)
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    done = events[-1]
    assert done.type == "transcript.text.done" and len(deltas) > 1
    assert "".join(e.delta for e in deltas) == done.text == plain.text
    assert done.usage is not None
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens


def test_whisper_ignores_stream(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/audio/transcriptions",
        headers=AUTH,
        files={
            "file": ("a.wav", asset("wav")[0], "audio/wav"),
            "model": (None, "whisper-1"),
            "stream": (None, "true"),
        },
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["text"]


def test_a_form_stream_false_does_not_stream(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/audio/transcriptions",
        headers=AUTH,
        files={
            "file": ("a.wav", asset("wav")[0], "audio/wav"),
            "model": (None, "gpt-4o-transcribe"),
            "stream": (None, "false"),
        },
    )
    assert r.headers["content-type"] == "application/json"


def test_the_openapi_export_lists_every_content_type(mock_url: str) -> None:
    doc = httpx.get(f"{mock_url}/_relaykit/openapi.json").json()

    def types(path: str, method: str = "post") -> set[str]:
        return set(doc["paths"][path][method]["responses"]["200"]["content"])

    assert types("/v1/audio/speech") == {
        "audio/mpeg", "audio/ogg", "audio/aac", "audio/flac", "audio/wav", "audio/pcm",
        "text/event-stream",
    }  # fmt: skip
    assert types("/v1/audio/transcriptions") == {
        "application/json",
        "text/plain",
        "text/event-stream",
    }
    assert types(CORE) == {"application/json", "image/png", "image/jpeg", "image/webp"}
    assert types("/v1/videos/{video_id}/content", "get") == {
        "video/mp4",
        "image/webp",
        "image/jpeg",
    }
