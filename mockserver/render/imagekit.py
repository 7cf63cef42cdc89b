"""Shared pieces of the image renderers: sizes, real image bytes, served URLs, upload checks."""

from __future__ import annotations

import base64
import functools
import re
import struct
import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.media import png, svg
from contracts.model import Example
from mockserver.files import FILES_PREFIX, MAX_SIDE
from mockserver.formview import is_binary, property_schemas, schema_default, shipped_components
from mockserver.render.context import RenderContext, RenderError
from mockserver.requests import validation_view

DEFAULT_SIDE = 1024
RASTER_KINDS = ("png", "jpg", "jpeg", "webp")
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*$")
_TWO_NUMBERS = re.compile(r"(\d{1,5}(?:\.\d{1,3})?)\D+(\d{1,5}(?:\.\d{1,3})?)")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def fields(ctx: RenderContext) -> dict[str, Any]:
    """The request body with form values typed as the schema declares (JSON bodies as sent)."""
    view = validation_view(ctx.op, ctx.body)
    return view if isinstance(view, dict) else {}


def request_default(ctx: RenderContext, name: str) -> Any:
    """The ``default`` the request schema declares for a top-level field, or None."""
    return schema_default(property_schemas(ctx.op.request.schema, name, shipped_components()))


def parse_size(text: Any) -> tuple[int, int] | None:
    """``WxH`` as (width, height); ``auto`` is 1024x1024; None for anything else."""
    if not isinstance(text, str):
        return None
    if text.strip().lower() == "auto":
        return DEFAULT_SIDE, DEFAULT_SIDE
    m = _SIZE.match(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def size_for_ratio(text: Any) -> tuple[int, int] | None:
    """About a megapixel in the ratio ``text`` names (16:9, 16x9, ASPECT_16_9), sides % 64."""
    m = _TWO_NUMBERS.search(text) if isinstance(text, str) else None
    if not m or float(m.group(1)) <= 0 or float(m.group(2)) <= 0:
        return None
    ratio = float(m.group(1)) / float(m.group(2))
    area = DEFAULT_SIDE * DEFAULT_SIDE
    width = max(64, round((area * ratio) ** 0.5 / 64) * 64)
    height = max(64, round((area / ratio) ** 0.5 / 64) * 64)
    return min(width, MAX_SIDE), min(height, MAX_SIDE)


def checked(size: tuple[int, int], param: str = "size") -> tuple[int, int]:
    """The size, or a 400 when the mock cannot draw it (it draws at most MAX_SIDE a side)."""
    width, height = size
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise RenderError(
            400,
            f"{param}: {width}x{height} is not a size this mock makes "
            f"(each side 1 to {MAX_SIDE} pixels).",
        )
    return size


@functools.lru_cache(maxsize=16)
def png_b64(width: int, height: int) -> str:
    """Base64 of a real PNG of this size (cached: the mock draws the same picture each time)."""
    return base64.b64encode(png(width, height)).decode()


def served_url(
    ctx: RenderContext, size: tuple[int, int], tag: str = "img", kind: str = "png"
) -> str:
    """A fresh URL under /_relaykit/files/ that downloads an image (PNG or SVG) of this size."""
    name = f"{ctx.fresh_id(f'rk{tag}')}-{size[0]}x{size[1]}.{kind}"
    return f"{ctx.base_url.rstrip('/')}{FILES_PREFIX}{name}"


def url_kind(url: Any) -> str:
    """The file extension of a URL (``png``, ``svg``...), lower case; empty when none."""
    if not isinstance(url, str):
        return ""
    last = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def image_payload(
    ctx: RenderContext, documented_url: Any, size: tuple[int, int], b64: bool, tag: str = "img"
) -> dict[str, str]:
    """``{url}`` or ``{b64_json}`` for one image in the documented kind.

    Raster kinds (and no documented URL) are a PNG of ``size``, SVG results an SVG of ``size``,
    served or inline; other kinds keep their documented URL.
    """
    vector = url_kind(documented_url) == "svg"
    if b64:
        data = base64.b64encode(svg(*size)).decode() if vector else png_b64(*size)
        return {"b64_json": data}
    if vector:
        return {"url": served_url(ctx, size, tag, kind="svg")}
    if documented_url and url_kind(documented_url) not in ("", *RASTER_KINDS):
        return {"url": str(documented_url)}
    return {"url": served_url(ctx, size, tag)}


def sniff(data: bytes) -> str | None:
    """The image type the bytes start with (PNG, JPEG or WEBP), or None."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR, scaled down to fit MAX_SIDE; None for other bytes."""
    if sniff(data) != "image/png" or len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        return None
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def check_image_uploads(ctx: RenderContext) -> dict[str, bytes]:
    """The uploaded images by field; 400 for a file field that is text or not an image.

    File fields are the request schema's ``format: binary`` properties; every one the request
    sends must be an uploaded PNG, JPEG or WEBP (checked by its first bytes). A field sent
    several times keeps only its last file's bytes, so only that file is checked.
    """
    body = ctx.body if isinstance(ctx.body, dict) else {}
    components = shipped_components()
    images: dict[str, bytes] = {}
    for name in body:
        if not is_binary(property_schemas(ctx.op.request.schema, name, components), components):
            continue
        data = ctx.uploads.get(name)
        if data is None:
            raise RenderError(400, f"Invalid '{name}': expected an uploaded image file, got text.")
        if sniff(data) is None:
            raise RenderError(
                400,
                f"Invalid '{name}': the uploaded file is not a PNG, JPEG or WEBP image "
                f"({len(data)} bytes starting {data[:8]!r}).",
            )
        images[name] = data
    return images


def chosen_example(ctx: RenderContext) -> Example | None:
    """The response example for this request.

    One chosen with ``Prefer: example=`` wins; otherwise the example whose same-named request
    example names the same model, then agrees with the request on the most fields (style,
    response_format...); the first on a tie.
    """
    servable = [e for e in ctx.op.response.examples if e.servable]
    if not servable or (ctx.example is not None and ctx.example is not servable[0]):
        return ctx.example
    sent = fields(ctx)
    requests = {e.name: e.value for e in ctx.op.request.examples}

    def agreement(example: Example) -> tuple[bool, int]:
        request = requests.get(example.name)
        if not isinstance(request, dict):
            return False, 0
        same = [
            key
            for key, value in request.items()
            if key != "prompt"
            and isinstance(value, str | int | float | bool)
            and key in sent
            and str(sent[key]).lower() == str(value).lower()
        ]
        return "model" in same, len(same)

    return max(servable, key=agreement)


def fresh_uuid() -> str:
    """A random UUID (v4), as Recraft and others use for image ids."""
    return str(uuid.uuid4())


def iso_now(ctx: RenderContext) -> str:
    """The request time as ISO 8601 with microseconds and offset, as Ideogram writes it."""
    return datetime.fromtimestamp(ctx.now, UTC).isoformat(timespec="microseconds")
