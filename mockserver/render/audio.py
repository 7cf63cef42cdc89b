"""Audio: speech, transcriptions and translations (filled in by the audio work of issue 3)."""

from __future__ import annotations

from mockserver.render.context import JsonRenderer

JSON: dict[str, JsonRenderer] = {}
