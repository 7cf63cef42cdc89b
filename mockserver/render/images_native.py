"""Native synchronous image endpoints: Ideogram, Recraft and Stability in their own formats.

The response example's shape says which answer to fill in: Ideogram's {created (ISO), data:
[{url, prompt, resolution, ...}]} and {descriptions}, Recraft's {data: [{image_id, url}]} and
{image: {url}}, Stability's JSON mode {image (base64), finish_reason, seed} and v1
{artifacts: [...]}. Every image is a PNG of the size asked for (served under /_relaykit/files/,
or base64 inline), Stability's v2beta in its ``output_format`` (PNG, JPEG or WEBP; raw bytes
with ``finish-reason`` and ``seed`` headers when Accept asks for ``image/*``); vector results
keep their documented SVG URL (or are a real SVG inline).
"""

from __future__ import annotations

import base64
import copy
import secrets
from typing import Any

import orjson

from contracts.media import IMAGE_TYPES, image
from contracts.wire.mediatype import media_type
from mockserver.files import MAX_SIDE
from mockserver.formview import property_schemas, shipped_components
from mockserver.render.context import Raw, RenderContext, RenderError
from mockserver.render.imagekit import (
    DEFAULT_SIDE,
    check_image_uploads,
    checked,
    chosen_example,
    fields,
    fresh_uuid,
    image_payload,
    iso_now,
    parse_size,
    png_b64,
    png_size,
    request_default,
    size_for_ratio,
)

UPSCALE = 2
"""How much the upscale operations (ids containing ``upscale``) enlarge, within MAX_SIDE."""


def render_native(ctx: RenderContext) -> Any:
    """The answer of a native image endpoint, in the shape of its response example."""
    uploads = check_image_uploads(ctx)
    example = chosen_example(ctx)
    body: dict[str, Any] = copy.deepcopy(example.value) if example else {}
    if "descriptions" in body:
        return body  # Ideogram describe: the documented descriptions, once the image checks
    if "artifacts" in body:
        return _stability_v1(ctx, body)
    if "finish_reason" in body:
        return _stability(ctx, body)
    if isinstance(body.get("image"), dict):
        return _recraft_tool(ctx, body, uploads)
    if isinstance(body.get("created"), str):
        return _ideogram(ctx, body, uploads)
    return _recraft_generate(ctx, body)


def _seed(value: Any) -> int:
    """The request's seed, or a random one where it is absent or 0 (Stability: 0 is random)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return secrets.randbelow(2**31)


def _first_size(uploads: dict[str, bytes]) -> tuple[int, int] | None:
    return next((s for s in map(png_size, uploads.values()) if s is not None), None)


def _enlarged(ctx: RenderContext, size: tuple[int, int]) -> tuple[int, int]:
    if "upscale" not in ctx.op.id:
        return size
    factor = min(UPSCALE, MAX_SIDE / max(size))
    return max(1, int(size[0] * factor)), max(1, int(size[1] * factor))


# --- Ideogram ---------------------------------------------------------------------------


def _image_request(ctx: RenderContext) -> dict[str, Any]:
    """image_request as an object: JSON already, or the JSON text of a form field, checked."""
    value = fields(ctx).get("image_request")
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return {}
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RenderError(400, f"image_request: not valid JSON ({exc}).") from None
    if not isinstance(parsed, dict):
        raise RenderError(400, "image_request: must be a JSON object.")
    schemas = property_schemas(ctx.op.request.schema, "image_request", shipped_components())
    content = next((s["contentSchema"] for s in schemas if "contentSchema" in s), None)
    if content is not None:
        problems = ctx.validators.problems(content, parsed, limit=1)
        if problems:
            p = problems[0]
            where = f"image_request.{p.where}" if p.path else "image_request"
            raise RenderError(400, f"Invalid request: {where}: {p.message}")
    return parsed


def _ideogram_size(ctx: RenderContext, req: dict[str, Any], uploads: dict[str, bytes]) -> Any:
    resolution = req.get("resolution")
    if isinstance(resolution, str) and resolution.startswith("RESOLUTION_"):
        size = parse_size(resolution.removeprefix("RESOLUTION_").replace("_", "x"))
        if size is not None:
            return checked(size, "image_request.resolution")
    by_ratio = size_for_ratio(req.get("aspect_ratio"))
    if by_ratio is not None:
        return by_ratio
    return _enlarged(ctx, _first_size(uploads) or (DEFAULT_SIDE, DEFAULT_SIDE))


def _ideogram(ctx: RenderContext, body: dict[str, Any], uploads: dict[str, bytes]) -> Any:
    req = _image_request(ctx)
    items = body.get("data") or [{}]
    template = dict(items[0]) if isinstance(items[0], dict) else {}
    count = req.get("num_images")
    count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
    size = _ideogram_size(ctx, req, uploads)
    data = []
    for _ in range(count):
        item = dict(template)
        item.update(image_payload(ctx, template.get("url"), size, b64=False, tag="ideo"))
        item["resolution"] = f"{size[0]}x{size[1]}"
        item["is_image_safe"] = True
        item["seed"] = _seed(req.get("seed"))
        if isinstance(req.get("prompt"), str) and req["prompt"]:
            item["prompt"] = req["prompt"]
        if "style_type" in item and isinstance(req.get("style_type"), str):
            item["style_type"] = req["style_type"]
        data.append(item)
    return {**body, "created": iso_now(ctx), "data": data}


# --- Recraft ----------------------------------------------------------------------------


def _recraft_generate(ctx: RenderContext, body: dict[str, Any]) -> Any:
    sent = fields(ctx)
    items = body.get("data") or [{}]
    template = dict(items[0]) if isinstance(items[0], dict) else {}
    n = sent.get("n") or request_default(ctx, "n") or 1
    size_text = sent.get("size") or request_default(ctx, "size")
    size = checked(parse_size(size_text) or (DEFAULT_SIDE, DEFAULT_SIDE))
    fmt = sent.get("response_format") or request_default(ctx, "response_format")
    data = []
    for _ in range(n if isinstance(n, int) else 1):
        item = {"image_id": fresh_uuid()} if "image_id" in template else {}
        item.update(image_payload(ctx, template.get("url"), size, fmt == "b64_json", "recraft"))
        data.append(item)
    return {**body, "created": ctx.now, "data": data}


def _recraft_tool(ctx: RenderContext, body: dict[str, Any], uploads: dict[str, bytes]) -> Any:
    sent = fields(ctx)
    documented = body["image"].get("url")
    size = _enlarged(ctx, _first_size(uploads) or (DEFAULT_SIDE, DEFAULT_SIDE))
    fmt = sent.get("response_format") or request_default(ctx, "response_format")
    image = image_payload(ctx, documented, size, fmt == "b64_json", "recraft")
    return {**body, "image": image}


# --- Stability --------------------------------------------------------------------------


def wants_raw_image(accept: str) -> bool:
    """True when the Accept header asks Stability for the image bytes (``image/*``,
    ``image/png``...) rather than JSON; ``*/*`` or no header keeps the JSON this contract
    documents."""
    kinds = [media_type(part) for part in accept.split(",")]
    return any(k.startswith("image/") for k in kinds) and "application/json" not in kinds


def _stability(ctx: RenderContext, body: dict[str, Any]) -> Any:
    """Stability v2beta: the image in ``output_format`` (png by default) at the aspect ratio's
    size, as base64 in the JSON, or as raw bytes with ``finish-reason`` and ``seed`` headers
    when Accept asks for ``image/*``."""
    sent = fields(ctx)
    ratio = sent.get("aspect_ratio") or request_default(ctx, "aspect_ratio")
    size = _first_size(ctx.uploads) if sent.get("mode") == "image-to-image" else None
    size = size or size_for_ratio(ratio) or (DEFAULT_SIDE, DEFAULT_SIDE)
    kind = str(sent.get("output_format") or request_default(ctx, "output_format") or "png")
    if kind not in IMAGE_TYPES:
        raise RenderError(400, f"output_format: {kind!r} is not one of png, jpeg, webp.")
    data, content_type = image(kind, *size)
    seed = _seed(sent.get("seed"))
    finish = str(body.get("finish_reason") or "SUCCESS")
    if wants_raw_image(ctx.accept):
        return Raw(data, content_type, headers={"finish-reason": finish, "seed": str(seed)})
    return {**body, "image": base64.b64encode(data).decode(), "seed": seed}


def _stability_v1(ctx: RenderContext, body: dict[str, Any]) -> Any:
    sent = fields(ctx)
    width = sent.get("width") or request_default(ctx, "width") or DEFAULT_SIDE
    height = sent.get("height") or request_default(ctx, "height") or DEFAULT_SIDE
    size = checked((int(width), int(height)), "width/height")
    samples = sent.get("samples") or request_default(ctx, "samples") or 1
    template = dict((body.get("artifacts") or [{}])[0])
    artifacts = []
    for _ in range(int(samples)):
        artifact = {**template, "base64": png_b64(*size), "seed": _seed(sent.get("seed"))}
        artifact.setdefault("finishReason", "SUCCESS")
        artifacts.append(artifact)
    return {**body, "artifacts": artifacts}
