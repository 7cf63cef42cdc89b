"""Requests OpenAI's reference allows are accepted, sent by the official openai SDK with what its
own resource tests send ("with_all_params"), and every model the mock accepts is listed and
retrievable (issue 12, item 5). The chat and completions cases of the SDK's tests are in
test_conversation.py; these are the other resources."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import openai
import pytest

from contracts.media import asset, png
from contracts.model import ContractSet
from contracts.model_names import named_models

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
WAV = ("a.wav", asset("wav")[0], "audio/wav")
PNG = ("a.png", png(8, 8), "image/png")


def calls() -> dict[str, Callable[[openai.OpenAI], Any]]:
    return {
        "chat reasoning_effort none": lambda c: c.chat.completions.create(
            model="gpt-4o",
            messages=[{"content": "string", "role": "developer", "name": "name"}],
            reasoning_effort="none",
            verbosity="low",
            prompt_cache_key="prompt-cache-key-1234",
            safety_identifier="safety-identifier-1234",
            stream_options={"include_obfuscation": True, "include_usage": True},
            web_search_options={"search_context_size": "low"},
        ),
        "embeddings": lambda c: c.embeddings.create(
            input="The quick brown fox jumped over the lazy dog",
            model="text-embedding-3-small",
            dimensions=1,
            encoding_format="float",
            user="user-1234",
        ),
        "images.generate": lambda c: c.images.generate(
            prompt="A cute baby sea otter",
            background="transparent",
            model="gpt-image-1",
            moderation="low",
            n=1,
            output_compression=100,
            output_format="png",
            quality="medium",
            response_format="url",
            size="1024x1024",
            stream=False,
            style="vivid",
            user="user-1234",
        ),
        "images.edit": lambda c: c.images.edit(
            image=PNG,
            prompt="A cute baby sea otter wearing a beret",
            background="transparent",
            input_fidelity="high",
            mask=PNG,
            model="gpt-image-1",
            n=1,
            output_compression=100,
            output_format="png",
            quality="high",
            response_format="url",
            size="1024x1024",
            user="user-1234",
        ),
        "audio.speech": lambda c: c.audio.speech.create(
            input="input",
            model="tts-1",
            voice="alloy",
            instructions="instructions",
            response_format="mp3",
            speed=0.25,
            stream_format="audio",
        ),
        "audio.transcriptions": lambda c: c.audio.transcriptions.create(
            file=WAV,
            model="gpt-4o-transcribe",
            chunking_strategy="auto",
            include=["logprobs"],
            language="language",
            prompt="prompt",
            response_format="json",
            stream=False,
            temperature=0,
            timestamp_granularities=["word"],
        ),
        "audio.translations": lambda c: c.audio.translations.create(
            file=WAV, model="whisper-1", prompt="prompt", response_format="json", temperature=0
        ),
        "moderations": lambda c: c.moderations.create(input="I want to kill them.", model="string"),
        "videos": lambda c: c.videos.create(
            prompt="x", input_reference=PNG, model="sora-2", seconds="4", size="720x1280"
        ),
    }


@pytest.mark.parametrize("name", sorted(calls()))
def test_the_sdks_all_params_requests_are_accepted(client: openai.OpenAI, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert calls()[name](client) is not None  # an error status raises


def test_every_model_the_mock_accepts_is_listed_and_retrievable(
    client: openai.OpenAI, contracts: ContractSet
) -> None:
    listed = [m.id for m in client.models.list()]
    for wanted in (
        "gpt-4o-mini-transcribe",  # documented in the transcription request schema
        "text-embedding-3-large",  # the embeddings renderer's 3072 dimensions
        "tts-1-hd",
        "sora-2-pro",
        "kling-v1-6",  # Kling's model_name
        "bge-reranker-v2-m3",
        "claude-sonnet-4-20250514",
    ):
        assert wanted in listed
        assert client.models.retrieve(wanted).id == wanted
    assert {m.id for m in named_models(contracts)} <= set(listed)
