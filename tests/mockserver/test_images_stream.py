"""gpt-image streaming through the official openai SDK: partial images, then the final one."""

from __future__ import annotations

import base64

import openai
import pytest

from mockserver.render.imagekit import png_size


def test_partial_images_then_the_completed_image(client: openai.OpenAI) -> None:
    events = list(
        client.images.generate(
            model="gpt-image-1",
            prompt="A lighthouse at dawn",
            size="1536x1024",
            quality="low",
            stream=True,
            partial_images=2,
        )
    )
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]  # type: ignore[union-attr]
    final = events[-1]
    assert final.type == "image_generation.completed" and final.size == "1536x1024"
    assert png_size(base64.b64decode(final.b64_json)) == (1536, 1024)
    assert final.quality == "low" and final.usage.input_tokens > 0
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens


def test_zero_partial_images_is_the_final_image_alone(client: openai.OpenAI) -> None:
    events = list(client.images.generate(model="gpt-image-1", prompt="A fox", stream=True))
    assert [e.type for e in events] == ["image_generation.completed"]


def test_only_gpt_image_models_stream(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="dall-e-3", prompt="A fox", stream=True)
    assert info.value.body["param"] == "model"  # type: ignore[index]
