"""Moderation (OpenAI shape): deterministic category scores from a few telling words.

A text is scored per category by the words it holds (``kill`` and ``attack`` are violence,
``hate`` is hate...): a category named by one of its words scores 0.9 or more and is flagged,
the others score below 0.01 (by a hash of the text, so the same text scores the same). Strings
and arrays of strings get one result each; a multimodal array (text and image_url parts) one
result for the whole input, whose image parts add ``image`` to the applied input types of the
categories OpenAI scores on images.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from mockserver.render.context import JsonRenderer, RenderContext

CATEGORIES: dict[str, tuple[str, ...]] = {
    "harassment": ("idiot", "stupid", "loser"),
    "harassment/threatening": ("kill you", "hurt you", "attack you", "kill them"),
    "hate": ("hate",),
    "hate/threatening": ("exterminate",),
    "illicit": ("shoplift", "steal", "counterfeit"),
    "illicit/violent": ("build a bomb", "make a weapon"),
    "self-harm": ("self-harm", "suicide", "cut myself"),
    "self-harm/instructions": ("how to cut",),
    "self-harm/intent": ("kill myself", "cut myself"),
    "sexual": ("explicit", "nsfw"),
    "sexual/minors": ("underage",),
    "violence": ("kill", "attack", "knife", "shoot", "murder"),
    "violence/graphic": ("gore", "blood everywhere"),
}
"""Each category and the words that flag it (OpenAI's category names, in its order)."""
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
"""The categories omni-moderation also scores on images."""
_SPACES = re.compile(r"\s+")


def result(text: str, has_image: bool) -> dict[str, Any]:
    """One moderation result for a text (and whether an image came with it)."""
    lowered = _SPACES.sub(" ", text.lower())
    scores: dict[str, float] = {}
    for i, (category, cues) in enumerate(CATEGORIES.items()):
        low = (zlib.crc32(f"{i}:{lowered}".encode()) % 9000 + 100) / 1_000_000
        hit = any(re.search(rf"\b{re.escape(cue)}\b", lowered) for cue in cues)
        scores[category] = round(0.9 + low * 10 if hit else low, 6)
    flags = {category: value >= 0.5 for category, value in scores.items()}
    applied = {
        category: ["text", "image"] if has_image and category in IMAGE_CATEGORIES else ["text"]
        for category in CATEGORIES
    }
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def _parts(value: list[Any]) -> tuple[str, bool] | None:
    """The text and whether there is an image, for a multimodal array; None for strings."""
    if not value or not all(isinstance(p, dict) for p in value):
        return None
    text = " ".join(str(p.get("text") or "") for p in value if p.get("type") == "text")
    return text, any(p.get("type") == "image_url" for p in value)


def render_moderation(ctx: RenderContext) -> Any:
    """{id, model, results}: one result per text, or one for a multimodal input."""
    value = ctx.field("input")
    if isinstance(value, list):
        multimodal = _parts(value)
        if multimodal is not None:
            results = [result(*multimodal)]
        else:
            results = [result(str(v), False) for v in value]
    else:
        results = [result(str(value or ""), False)]
    model = ctx.field("model") or "omni-moderation-latest"
    return {"id": ctx.fresh_id("modr-"), "model": model, "results": results}


JSON: dict[str, JsonRenderer] = {"moderations": render_moderation}
