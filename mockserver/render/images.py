"""Images: generations, edits and variations (filled in by the images work of issue 3)."""

from __future__ import annotations

from mockserver.render.context import JsonRenderer

JSON: dict[str, JsonRenderer] = {}
