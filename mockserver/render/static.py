"""Serve the example as documented."""

from __future__ import annotations

import copy
from typing import Any

from mockserver.render.context import Event, RenderContext


def render_json(ctx: RenderContext) -> Any:
    """The example body, unchanged."""
    return copy.deepcopy(ctx.example.value) if ctx.example else {}


def render_stream(ctx: RenderContext) -> list[Event]:
    """The example's events, unchanged (named events keep their names)."""
    events: list[Event] = []
    for item in ctx.example.value if ctx.example else []:
        if ctx.op.stream and ctx.op.stream.framing == "sse-named":
            events.append(Event(copy.deepcopy(item["data"]), item["event"]))
        else:
            events.append(Event(copy.deepcopy(item)))
    return events
