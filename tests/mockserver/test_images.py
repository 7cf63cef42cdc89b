"""OpenAI images through the official SDK: generations, edits, variations, real PNGs."""

from __future__ import annotations

import base64
import struct
import time
import zlib
from typing import Any

import httpx
import openai
import pytest

from contracts.media import png
from contracts.model import ContractSet
from contracts.validation import Validators


def png_size(data: bytes) -> tuple[int, int]:
    """The size of a PNG whose pixel data inflates, or an AssertionError."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    raw = zlib.decompress(data[start : start + length])
    assert len(raw) == height * (1 + 3 * width)
    return width, height


def downloaded(url: str) -> tuple[int, int]:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    return png_size(r.content)


def upload(width: int = 32, height: int = 32, name: str = "in.png") -> tuple[str, bytes, str]:
    return (name, png(width, height), "image/png")


def test_generate_dalle3_url_downloads_a_png_of_the_size(client: openai.OpenAI) -> None:
    r = client.images.generate(model="dall-e-3", prompt="a lighthouse", size="1792x1024")
    assert r.data and len(r.data) == 1
    image = r.data[0]
    assert image.url and image.b64_json is None
    assert image.revised_prompt and image.revised_prompt.startswith("a lighthouse")
    assert downloaded(image.url) == (1792, 1024)
    assert abs(r.created - time.time()) < 60


def test_generate_b64_json_is_a_real_png_of_the_size(client: openai.OpenAI) -> None:
    r = client.images.generate(
        model="dall-e-2", prompt="an icon", n=3, size="512x512", response_format="b64_json"
    )
    assert r.data and len(r.data) == 3
    for image in r.data:
        assert image.url is None and image.b64_json and image.revised_prompt is None
        assert png_size(base64.b64decode(image.b64_json)) == (512, 512)


def test_gpt_image_answers_base64_with_usage_and_auto_size(client: openai.OpenAI) -> None:
    r = client.images.generate(model="gpt-image-1", prompt="a nook", size="auto", n=2)
    assert r.data and len(r.data) == 2 and all(d.b64_json for d in r.data)
    assert png_size(base64.b64decode(r.data[0].b64_json or "")) == (1024, 1024)
    assert r.size == "1024x1024" and r.output_format == "png"
    assert r.usage and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


@pytest.mark.parametrize(
    ("model", "extra", "size", "operation"),
    [
        ("flux-schnell", {"size": "1024x768"}, (1024, 768), "openai.images.generations.flux"),
        ("flux-kontext-pro", {"aspect_ratio": "16:9"}, (1344, 768), "flux"),
        ("sdxl", {"size": "768x1344"}, (768, 1344), "stable_diffusion"),
        ("ideogram-v2", {}, (1024, 1024), "ideogram"),
        ("recraftv3", {"size": "1365x1024", "n": 2}, (1365, 1024), "recraftv3"),
    ],
)
def test_other_model_families_through_generations(
    mock_url: str,
    contracts: ContractSet,
    model: str,
    extra: dict[str, Any],
    size: tuple[int, int],
    operation: str,
) -> None:
    r = httpx.post(
        f"{mock_url}/v1/images/generations",
        json={"model": model, "prompt": "a fox", **extra},
        headers={"Authorization": "Bearer sk-x"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert operation in r.headers["x-relaykit-operation"]
    body = r.json()
    op = contracts.get(r.headers["x-relaykit-operation"])
    assert Validators(contracts.components).problems(op.response.schema, body) == []
    assert len(body["data"]) == extra.get("n", 1)
    for item in body["data"]:
        assert downloaded(item["url"]) == size
    if model == "recraftv3":  # the relay's extras follow the images
        assert body["image"] == [d["url"] for d in body["data"]]
        assert (body["metadata"]["width"], body["metadata"]["height"]) == size
        assert len({i["image_id"] for i in body["metadata"]["images"]}) == 2


def test_recraft_vector_style_gives_a_served_svg(mock_url: str) -> None:
    r = httpx.post(
        f"{mock_url}/v1/images/generations",
        json={"model": "recraftv3", "prompt": "a logo", "style": "vector_illustration"},
        headers={"Authorization": "Bearer sk-x"},
    )
    assert r.status_code == 200
    url = r.json()["data"][0]["url"]
    assert url.startswith(mock_url) and url.endswith(".svg")
    svg = httpx.get(url)
    assert svg.headers["content-type"] == "image/svg+xml" and svg.content.startswith(b"<svg ")


def test_a_size_the_mock_cannot_draw_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="image_size"):
        client.images.generate(
            model="stable-diffusion-3-5-large", prompt="x", extra_body={"image_size": "4096x4096"}
        )
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="dall-e-3", prompt="x", size="512x512")
    assert info.value.body["param"] == "size"  # type: ignore[index]


def test_edit_with_image_and_mask(client: openai.OpenAI) -> None:
    r = client.images.edit(
        image=upload(), mask=upload(name="mask.png"), prompt="add a flamingo", n=2, size="256x256"
    )
    assert r.data and len(r.data) == 2
    assert all(d.url and downloaded(d.url) == (256, 256) for d in r.data)


def test_gpt_image_edit_with_several_images(client: openai.OpenAI) -> None:
    r = client.images.edit(
        image=[upload(), upload(16, 16, "b.png")],
        prompt="combine them",
        model="gpt-image-1",
        size="1536x1024",
    )
    assert r.data and png_size(base64.b64decode(r.data[0].b64_json or "")) == (1536, 1024)


def test_variation_as_url_and_as_base64(client: openai.OpenAI) -> None:
    r = client.images.create_variation(image=upload(), n=2, size="512x512")
    assert (
        r.data and len(r.data) == 2 and all(downloaded(d.url or "") == (512, 512) for d in r.data)
    )
    r = client.images.create_variation(image=upload(), response_format="b64_json")
    assert r.data and png_size(base64.b64decode(r.data[0].b64_json or "")) == (1024, 1024)


@pytest.mark.parametrize(
    "data",
    [b"GIF89a\x01\x00\x01\x00", b"hello, not an image", b""],
)
def test_a_file_that_is_not_an_image_is_a_bad_request(client: openai.OpenAI, data: bytes) -> None:
    with pytest.raises(openai.BadRequestError, match=r"'image'.*not a PNG, JPEG or WEBP"):
        client.images.create_variation(image=("x.png", data, "image/png"))
    with pytest.raises(openai.BadRequestError, match="'image'"):
        client.images.edit(image=("x.png", data, "image/png"), prompt="x")


def test_a_mask_that_is_not_an_image_is_a_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match=r"'mask'.*not a PNG"):
        client.images.edit(image=upload(), mask=("m.png", b"nope", "image/png"), prompt="x")


def test_jpeg_and_webp_uploads_are_images(mock_url: str) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
    for data in (jpeg, webp):
        r = httpx.post(
            f"{mock_url}/v1/images/variations",
            files={"image": ("in", data, "application/octet-stream")},
            headers={"Authorization": "Bearer sk-x"},
        )
        assert r.status_code == 200, r.text


def test_a_missing_image_file_is_a_bad_request(mock_url: str) -> None:
    auth = {"Authorization": "Bearer sk-x"}
    r = httpx.post(f"{mock_url}/v1/images/variations", files={"n": (None, "1")}, headers=auth)
    assert r.status_code == 400 and '"image" is a required property' in r.json()["error"]["message"]
    r = httpx.post(
        f"{mock_url}/v1/images/edits",
        files={"prompt": (None, "x"), "mask": ("m.png", png(8, 8), "image/png")},
        headers=auth,
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    # image sent as a text field, not a file
    r = httpx.post(
        f"{mock_url}/v1/images/edits",
        files={"prompt": (None, "x"), "image": (None, "not a file")},
        headers=auth,
    )
    assert r.status_code == 400 and "expected an uploaded image file" in r.text


def test_multipart_fields_are_validated_by_their_declared_type(mock_url: str) -> None:
    auth = {"Authorization": "Bearer sk-x"}
    image = ("in.png", png(8, 8), "image/png")
    for field, value in (("n", "two"), ("n", "11"), ("size", "300x300")):
        r = httpx.post(
            f"{mock_url}/v1/images/variations",
            files={"image": image, field: (None, value)},
            headers=auth,
        )
        assert r.status_code == 400, (field, value, r.text)
        assert r.json()["error"]["param"] == field
    r = httpx.post(
        f"{mock_url}/v1/images/variations",
        files={"image": image, "n": (None, "4"), "size": (None, "256x256")},
        headers=auth,
    )
    assert r.status_code == 200 and len(r.json()["data"]) == 4
