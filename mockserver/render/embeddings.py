"""Embeddings: one deterministic unit vector per input, floats or base64 float32."""

from __future__ import annotations

import base64
import hashlib
import math
import operator
import sys
from array import array
from typing import Any

from mockserver import tokens
from mockserver.render.context import RenderContext

DIMENSIONS = {"text-embedding-3-large": 3072}
DEFAULT_DIMENSIONS = 1536


def inputs_of(value: Any) -> list[Any]:
    """The list of inputs: a string, strings, token ids, or arrays of token ids."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [value]
    return list(value) if isinstance(value, list) else [value]


def vector(item: Any, dims: int) -> list[float]:
    """A unit vector that depends only on the input and the dimension count.

    Components come from SHAKE-256 bytes read as signed int8 (done in C), so the largest request
    OpenAI allows (2048 inputs x 4096 dimensions) renders in about a second, not ten.
    """
    raw = array("b", hashlib.shake_256(repr(item).encode()).digest(dims))
    norm = math.sqrt(sum(map(operator.mul, raw, raw))) or 1.0
    return [x / norm for x in raw]


def render_json(ctx: RenderContext) -> Any:
    """An embedding list with as many vectors as inputs."""
    model = ctx.field("model", "text-embedding-3-small")
    dims = ctx.int_field("dimensions") or DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    as_base64 = ctx.field("encoding_format") == "base64"
    items = inputs_of(ctx.field("input", ""))
    data = []
    for index, item in enumerate(items):
        vec = vector(item, dims)
        emb: Any = base64.b64encode(_float32_le(vec)).decode() if as_base64 else vec
        data.append({"object": "embedding", "index": index, "embedding": emb})
    used = sum(len(i) if isinstance(i, list) else tokens.count(str(i)) for i in items)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


def _float32_le(vec: list[float]) -> bytes:
    packed = array("f", vec)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()
