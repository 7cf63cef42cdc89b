"""gpt-image streamed generation: ``stream: true`` answers named events, not one JSON body.

Per image, ``partial_images`` (0-3) ``image_generation.partial_image`` events (each a real
PNG of the asked size, ``partial_image_index`` counting up), then one
``image_generation.completed`` with the final image and the usage. The settings the events
echo (size, quality, background) come from the request; the mock draws PNG whatever
``output_format`` asks, as its JSON answers do. The usage's output tokens are the example's
per image; the input tokens are counted from the prompt.
"""

from __future__ import annotations

from typing import Any

from mockserver import tokens
from mockserver.render.context import Event, RenderContext
from mockserver.render.imagekit import fields, png_b64
from mockserver.render.images import requested_size

PARTIAL = "image_generation.partial_image"
COMPLETED = "image_generation.completed"
MAX_PARTIALS = 3


def _documented_output_tokens(ctx: RenderContext) -> int:
    for item in ctx.example.value if ctx.example and isinstance(ctx.example.value, list) else []:
        usage = item.get("data", {}).get("usage") if isinstance(item, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
            return int(usage["output_tokens"])
    return 0


def render_stream(ctx: RenderContext) -> list[Event]:
    """The partial-image events and the completed event of every image asked for."""
    sent = fields(ctx)
    width, height = requested_size(sent)
    partials = max(0, min(MAX_PARTIALS, ctx.int_field("partial_images") or 0))
    n = ctx.int_field("n") or 1
    quality, background = sent.get("quality"), sent.get("background")
    settings: dict[str, Any] = {
        "size": f"{width}x{height}",
        "quality": quality if isinstance(quality, str) else "auto",
        "background": "transparent" if background == "transparent" else "opaque",
        "output_format": "png",
    }
    picture = png_b64(width, height)
    prompt = tokens.count(str(sent.get("prompt") or ""))
    output = _documented_output_tokens(ctx)
    events = []
    for _ in range(max(1, n)):
        for index in range(partials):
            data = {"type": PARTIAL, "b64_json": picture, "created_at": ctx.now, **settings}
            events.append(Event({**data, "partial_image_index": index}, PARTIAL))
        usage = {
            "input_tokens": prompt,
            "input_tokens_details": {"text_tokens": prompt, "image_tokens": 0},
            "output_tokens": output,
            "total_tokens": prompt + output,
        }
        done = {"type": COMPLETED, "b64_json": picture, "created_at": ctx.now, **settings}
        events.append(Event({**done, "usage": usage}, COMPLETED))
    return events


STREAM = {"images.events": render_stream}
