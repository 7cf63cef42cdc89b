"""Chat answers with media links (gpt-4-all, image models, Suno, Runway) that download here."""

from __future__ import annotations

import base64
import copy
import re
import struct
import zlib

import httpx
import openai
import pytest

from contracts.model import ContractSet, Example
from contracts.validation import Validators
from mockserver.render import RenderContext
from mockserver.render.chat import render_json

LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def _links(content: str | None, mock_url: str) -> list[str]:
    links = LINK.findall(content or "")
    assert links, content
    assert all(u.startswith(f"{mock_url}/_relaykit/files/") for u in links), links
    assert "cdn.relaykit.example" not in (content or "")
    return links


def _download(url: str) -> httpx.Response:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, url
    return r


def _is_png(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    zlib.decompress(data[data.index(b"IDAT") + 4 :])


def _ask(client: openai.OpenAI, model: str, text: str) -> str:
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}]
    )
    assert reply.model == model and reply.choices[0].finish_reason == "stop"
    return reply.choices[0].message.content or ""


@pytest.mark.parametrize("model", ["gpt-4-all", "gpt-4o-alle", "gpt-4o-image-vip"])
def test_image_generation_through_chat_links_a_served_png(
    client: openai.OpenAI, mock_url: str, model: str
) -> None:
    content = _ask(client, model, "画一只猫")
    (link,) = _links(content, mock_url)
    assert content.startswith(f"![image]({link})")
    image = _download(link)
    assert image.headers["content-type"] == "image/png"
    _is_png(image.content)


def test_suno_through_chat_links_served_mp3_and_mp4(client: openai.OpenAI, mock_url: str) -> None:
    links = _links(_ask(client, "chirp-v3-5", "写一首歌"), mock_url)
    assert [u.rsplit(".", 1)[1] for u in links] == ["mp3", "mp4", "mp3", "mp4"]
    assert len(set(links)) == 4  # two clips, each with its own audio and video
    for url in links:
        r = _download(url)
        if url.endswith(".mp3"):
            assert r.headers["content-type"] == "audio/mpeg" and r.content[:2] == b"\xff\xfb"
        else:
            assert r.headers["content-type"] == "video/mp4" and r.content[4:8] == b"ftyp"


def test_suno_stream_links_download_too(client: openai.OpenAI, mock_url: str) -> None:
    stream = client.chat.completions.create(
        model="suno-v3.5", messages=[{"role": "user", "content": "写一首歌"}], stream=True
    )
    content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    for url in _links(content, mock_url):
        assert _download(url).content


def test_runway_through_chat_links_one_served_mp4(client: openai.OpenAI, mock_url: str) -> None:
    links = _links(_ask(client, "runway-video", "https://x.example/dog.jpg 两只狗骑摩托"), mock_url)
    assert len(links) == 2 and len(set(links)) == 1  # play and download: the same video
    video = _download(links[0])
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp" and b"avc1" in video.content


def test_gemini_image_is_a_decodable_data_uri(client: openai.OpenAI) -> None:
    content = _ask(client, "gemini-2.0-flash-exp-image-generation", "画一个橙色方块")
    (uri,) = re.findall(r"\]\((data:image/png;base64,[^)]+)\)", content)
    _is_png(base64.b64decode(uri.split(",", 1)[1]))


def test_links_of_kinds_not_served_keep_their_documented_url(contracts: ContractSet) -> None:
    op = contracts.get("openai.chat.gpt4_all.image_generation")
    example = op.example()
    assert example is not None
    value = copy.deepcopy(example.value)
    value["choices"][0]["message"]["content"] = (
        "[a](https://cdn.relaykit.example/x/model.glb) ![b](https://cdn.relaykit.example/y/c.PNG)"
    )
    ctx = RenderContext(
        op=op,
        body={"model": "gpt-4-all", "messages": [{"role": "user", "content": "x"}]},
        example=Example(name="t", value=value),
        validators=Validators(contracts.components),
        base_url="http://mock.test/",
    )
    content = render_json(ctx)["choices"][0]["message"]["content"]
    assert content == (
        "[a](https://cdn.relaykit.example/x/model.glb) "
        "![b](http://mock.test/_relaykit/files/c-0.png)"
    )
