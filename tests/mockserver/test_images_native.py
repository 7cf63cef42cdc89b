"""Native image endpoints (Ideogram, Recraft, Stability) through httpx against the mock."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contracts.media import png
from contracts.model import ContractSet
from contracts.validation import Validators
from tests.mockserver.test_images import downloaded, png_size

IMAGE = ("in.png", png(300, 200), "image/png")


@pytest.fixture()
def http(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=mock_url, headers={"Authorization": "Bearer sk-native"}, timeout=30
    ) as c:
        yield c


def valid(contracts: ContractSet, r: httpx.Response) -> Any:
    """The JSON body of a 200, checked against the operation's response schema."""
    assert r.status_code == 200, r.text
    body = r.json()
    op = contracts.get(r.headers["x-relaykit-operation"])
    assert Validators(contracts.components).problems(op.response.schema, body) == []
    return body


def test_ideogram_generate_honours_count_and_resolution(
    http: httpx.Client, contracts: ContractSet
) -> None:
    request = {
        "image_request": {
            "prompt": "a poster",
            "resolution": "RESOLUTION_1280_768",
            "num_images": 2,
            "seed": 7,
            "style_type": "ANIME",
            "model": "V_2",
        }
    }
    body = valid(contracts, http.post("/ideogram/generate", json=request))
    assert len(body["data"]) == 2
    for item in body["data"]:
        assert item["resolution"] == "1280x768" and item["seed"] == 7
        assert item["prompt"] == "a poster" and item["style_type"] == "ANIME"
        assert downloaded(item["url"]) == (1280, 768)
    ratio = {"image_request": {"prompt": "x", "aspect_ratio": "ASPECT_9_16"}}
    item = valid(contracts, http.post("/ideogram/generate", json=ratio))["data"][0]
    assert downloaded(item["url"]) == (768, 1344) and item["resolution"] == "768x1344"


def test_ideogram_generate_checks_the_request(http: httpx.Client) -> None:
    r = http.post("/ideogram/generate", json={"image_request": {"aspect_ratio": "ASPECT_1_1"}})
    assert r.status_code == 400 and "prompt" in r.json()["error"]["message"]


def test_ideogram_remix_parses_and_checks_image_request(
    http: httpx.Client, contracts: ContractSet
) -> None:
    form = {"image_request": '{"prompt": "as watercolour", "image_weight": 60}'}
    body = valid(contracts, http.post("/ideogram/remix", data=form, files={"image_file": IMAGE}))
    assert body["data"][0]["prompt"] == "as watercolour"
    assert downloaded(body["data"][0]["url"]) == (300, 200)  # the source image's size
    bad = {"image_request": '{"prompt": "x", "image_weight": 500}'}
    r = http.post("/ideogram/remix", data=bad, files={"image_file": IMAGE})
    assert r.status_code == 400 and "image_request.image_weight" in r.text
    r = http.post("/ideogram/remix", data={"image_request": "{nope"}, files={"image_file": IMAGE})
    assert r.status_code == 400 and "not valid JSON" in r.text
    r = http.post("/ideogram/remix", data={"image_request": '{"prompt": "x"}'})
    assert r.status_code == 400 and "image_file" in r.text


def test_ideogram_upscale_doubles_the_upload(http: httpx.Client, contracts: ContractSet) -> None:
    r = http.post("/ideogram/upscale", data={"image_request": "{}"}, files={"image_file": IMAGE})
    item = valid(contracts, r)["data"][0]
    assert item["resolution"] == "600x400" and downloaded(item["url"]) == (600, 400)
    assert "style_type" not in item


def test_ideogram_describe_wants_an_image(http: httpx.Client, contracts: ContractSet) -> None:
    body = valid(contracts, http.post("/ideogram/describe", files={"image_file": IMAGE}))
    assert body["descriptions"][0]["text"]
    r = http.post("/ideogram/describe", files={"image_file": ("a.txt", b"text", "text/plain")})
    assert r.status_code == 400 and "'image_file'" in r.text


def test_recraft_generations_n_size_and_formats(http: httpx.Client, contracts: ContractSet) -> None:
    request = {"prompt": "a nook", "n": 3, "size": "1024x1365"}
    body = valid(contracts, http.post("/recraft/v1/images/generations", json=request))
    assert len(body["data"]) == 3 and len({d["image_id"] for d in body["data"]}) == 3
    assert all(downloaded(d["url"]) == (1024, 1365) for d in body["data"])
    inline = {"prompt": "a nook", "response_format": "b64_json"}
    body = valid(contracts, http.post("/recraft/v1/images/generations", json=inline))
    assert png_size(base64.b64decode(body["data"][0]["b64_json"])) == (1024, 1024)  # default
    vector = {"prompt": "a rocket", "style": "vector_illustration", "response_format": "b64_json"}
    body = valid(contracts, http.post("/recraft/v1/images/generations", json=vector))
    assert base64.b64decode(body["data"][0]["b64_json"]).startswith(b"<svg ")
    r = http.post("/recraft/v1/images/generations", json={"prompt": "x", "size": "999x999"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "size"


@pytest.mark.parametrize(
    ("tool", "size"),
    [
        ("removeBackground", (300, 200)),
        ("crispUpscale", (600, 400)),
        ("creativeUpscale", (600, 400)),
    ],
)
def test_recraft_image_tools(
    http: httpx.Client, contracts: ContractSet, tool: str, size: tuple[int, int]
) -> None:
    body = valid(contracts, http.post(f"/recraft/v1/images/{tool}", files={"file": IMAGE}))
    assert downloaded(body["image"]["url"]) == size
    r = http.post(
        f"/recraft/v1/images/{tool}", files={"file": IMAGE}, data={"response_format": "b64_json"}
    )
    assert png_size(base64.b64decode(valid(contracts, r)["image"]["b64_json"])) == size
    r = http.post(f"/recraft/v1/images/{tool}", files={"file": ("a", b"%PDF-1.4", "x/y")})
    assert r.status_code == 400 and "'file'" in r.text


def test_recraft_vectorize_gives_a_served_svg(http: httpx.Client, contracts: ContractSet) -> None:
    body = valid(contracts, http.post("/recraft/v1/images/vectorize", files={"file": IMAGE}))
    svg = http.get(body["image"]["url"])
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg ")


@pytest.mark.parametrize("model", ["ultra", "core", "sd3"])
def test_stability_generate_json_mode(
    http: httpx.Client, contracts: ContractSet, model: str
) -> None:
    form = {"prompt": "a lighthouse", "aspect_ratio": "16:9", "seed": "42"}
    body = valid(
        contracts, http.post(f"/sd/v2beta/stable-image/generate/{model}", files=_form(form))
    )
    assert png_size(base64.b64decode(body["image"])) == (1344, 768)
    assert body["seed"] == 42 and body["finish_reason"] == "SUCCESS"
    body = valid(
        contracts,
        http.post(f"/sd/v2beta/stable-image/generate/{model}", files=_form({"prompt": "x"})),
    )
    assert png_size(base64.b64decode(body["image"])) == (1024, 1024)  # the schema's 1:1 default
    assert body["seed"] > 0  # 0 or absent: a random seed
    bad = _form({"prompt": "x", "seed": "-1"})
    r = http.post(f"/sd/v2beta/stable-image/generate/{model}", files=bad)
    assert r.status_code == 400 and r.json()["error"]["param"] == "seed"


def test_stability_image_to_image_checks_the_image(
    http: httpx.Client, contracts: ContractSet
) -> None:
    form = {"prompt": "at night", "mode": "image-to-image", "strength": "0.6"}
    r = http.post("/sd/v2beta/stable-image/generate/sd3", data=form, files={"image": IMAGE})
    assert png_size(base64.b64decode(valid(contracts, r)["image"])) == (300, 200)
    r = http.post(
        "/sd/v2beta/stable-image/generate/sd3", data=form, files={"image": ("a", b"xx", "a/b")}
    )
    assert r.status_code == 400 and "'image'" in r.text
    r = http.post("/sd/v2beta/stable-image/generate/sd3", data={**form, "strength": "strong"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "strength"


def test_stability_filtered_example_can_be_preferred(http: httpx.Client) -> None:
    r = http.post(
        "/sd/v2beta/stable-image/generate/core",
        files=_form({"prompt": "x"}),
        headers={"Prefer": "example=filtered"},
    )
    assert r.status_code == 200 and r.json()["finish_reason"] == "CONTENT_FILTERED"


def test_sdxl_v1_artifacts(http: httpx.Client, contracts: ContractSet) -> None:
    request = {"text_prompts": [{"text": "a castle"}], "width": 1152, "height": 896, "samples": 2}
    path = "/sd/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image"
    body = valid(contracts, http.post(path, json=request))
    assert len(body["artifacts"]) == 2
    assert all(png_size(base64.b64decode(a["base64"])) == (1152, 896) for a in body["artifacts"])
    body = valid(contracts, http.post(path, json={"text_prompts": [{"text": "a"}]}))
    assert png_size(base64.b64decode(body["artifacts"][0]["base64"])) == (512, 512)  # defaults
    r = http.post(path, json={"text_prompts": [{"text": "a"}], "width": 1000})
    assert r.status_code == 400 and r.json()["error"]["param"] == "width"


def _form(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """Text fields sent as multipart parts (httpx sends a plain dict as urlencoded)."""
    return {k: (None, v) for k, v in fields.items()}


def test_huge_declared_sizes_are_scaled_to_what_the_mock_draws(
    http: httpx.Client, contracts: ContractSet
) -> None:
    forged = bytearray(png(4, 2))
    forged[16:24] = (100_000).to_bytes(4, "big") + (50_000).to_bytes(4, "big")  # IHDR only
    r = http.post("/recraft/v1/images/removeBackground", files={"file": ("a.png", bytes(forged))})
    assert downloaded(valid(contracts, r)["image"]["url"]) == (2048, 1024)
    r = http.post(
        "/v1/images/generations",
        json={"model": "ideogram-v3", "prompt": "x", "aspect_ratio": "99999999999:1"},
    )
    width, height = downloaded(valid(contracts, r)["data"][0]["url"])
    assert width == 2048 and 1 <= height <= 64
