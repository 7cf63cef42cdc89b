"""Images in OpenAI's format: /v1/images/generations (every model family), edits, variations.

The answer takes the shape of the response example that fits the request best (see
imagekit.chosen_example) and is filled from the request: ``n`` images of ``size`` (``auto``:
1024x1024; else ``aspect_ratio``; else 1024x1024), each a URL the mock serves (a PNG of that
size) or, for ``response_format: b64_json`` and gpt-image models, the base64 of such a PNG.
Edits and variations first check their uploads: every file field must be a PNG, JPEG or WEBP.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from mockserver.render import images_native
from mockserver.render.context import JsonRenderer, RenderContext
from mockserver.render.imagekit import (
    DEFAULT_SIDE,
    check_image_uploads,
    checked,
    chosen_example,
    fields,
    fresh_uuid,
    image_payload,
    parse_size,
    size_for_ratio,
)


def requested_size(sent: dict[str, Any]) -> tuple[int, int]:
    """The image size a generation request asks for (size, image_size, aspect_ratio)."""
    for name in ("size", "image_size"):
        if sent.get(name) is not None:
            size = parse_size(sent[name])
            if size is not None:
                return checked(size, name)
    by_ratio = size_for_ratio(sent.get("aspect_ratio"))
    return by_ratio or (DEFAULT_SIDE, DEFAULT_SIDE)


def wants_b64(sent: dict[str, Any]) -> bool:
    """True when images go inline: b64_json asked, or a gpt-image model (always base64)."""
    model = sent.get("model")
    return sent.get("response_format") == "b64_json" or (
        isinstance(model, str) and model.startswith("gpt-image")
    )


def revise(prompt: Any) -> str:
    """A dall-e-3 style revised prompt: the prompt, spelt out a little further."""
    text = str(prompt or "An image").strip().rstrip(".")
    return f"{text}, rendered in rich detail with balanced composition and natural lighting."


def render_images(ctx: RenderContext) -> Any:
    """The images object {created, data: [...]} for generations, edits and variations."""
    check_image_uploads(ctx)
    sent = fields(ctx)
    example = chosen_example(ctx)
    body: dict[str, Any] = copy.deepcopy(example.value) if example else {}
    items = body.get("data") if isinstance(body.get("data"), list) else None
    template: dict[str, Any] = dict(items[0]) if items and isinstance(items[0], dict) else {}
    n = _count(sent)
    size = requested_size(sent)
    b64 = wants_b64(sent)
    data = []
    for _ in range(n):
        item = {k: v for k, v in template.items() if k not in ("url", "b64_json")}
        item.update(image_payload(ctx, template.get("url"), size, b64))
        if "revised_prompt" in item:
            item["revised_prompt"] = revise(sent.get("prompt"))
        data.append(item)
    body["created"] = ctx.now
    body["data"] = data
    _fill_extras(body, sent, size, n)
    return body


def _count(sent: dict[str, Any]) -> int:
    for name in ("n", "batch_size"):
        value = sent.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
    return 1


def _fill_extras(body: dict[str, Any], sent: dict[str, Any], size: tuple[int, int], n: int) -> None:
    """Fields some examples carry beside data: gpt-image settings and usage, recraft extras."""
    if "size" in body:
        body["size"] = f"{size[0]}x{size[1]}"
    for name in ("quality", "background"):
        if name in body and isinstance(sent.get(name), str):
            body[name] = sent[name]
    if "output_format" in body:
        body["output_format"] = "png"  # the mock draws PNG whatever format was asked
    usage = body.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
        usage["output_tokens"] *= n
        usage["total_tokens"] = usage.get("input_tokens", 0) + usage["output_tokens"]
    if isinstance(body.get("image"), list):
        body["image"] = [d["url"] for d in body["data"] if "url" in d]
        if not body["image"]:
            del body["image"]
    meta = body.get("metadata")
    if isinstance(meta, dict):
        meta["width"], meta["height"] = size
        images = meta.get("images")
        if isinstance(images, list) and images:
            meta["images"] = [{**images[0], "image_id": fresh_uuid()} for _ in range(n)]
        if "random_seed" in meta:
            meta["random_seed"] = secrets.randbelow(2**31)
        if "request_id" in meta:
            meta["request_id"] = fresh_uuid()


JSON: dict[str, JsonRenderer] = {
    "images": render_images,
    "images.native": images_native.render_native,
}
