"""Renderers: turn a contract's example into the response for one request.

A contract names its renderer (`response.render`, `stream.render`); the registry below maps
those names to functions. JSON renderers return a body; stream renderers return the list of
events the app then writes, paced, to the wire.
"""

from __future__ import annotations

from mockserver.render import (
    anthropic,
    audio,
    chat,
    completions,
    embeddings,
    gemini,
    images,
    images_stream,
    models,
    moderation,
    rerank,
    responses,
    static,
    task,
    task_list,
    videos,
)
from mockserver.render.context import (
    Event,
    JsonRenderer,
    NotStreamed,
    Raw,
    RenderContext,
    RenderError,
    StreamRenderer,
)

JSON_RENDERERS: dict[str, JsonRenderer] = {
    "static": static.render_json,
    "chat.completion": chat.render_json,
    "text_completion": completions.render_json,
    "embeddings": embeddings.render_json,
    **task.JSON,
    **task_list.JSON,
    **images.JSON,
    **audio.JSON,
    **models.JSON,
    **anthropic.JSON,
    **gemini.JSON,
    **responses.JSON,
    **rerank.JSON,
    **moderation.JSON,
    **videos.JSON,
}

STREAM_RENDERERS: dict[str, StreamRenderer] = {
    "static": static.render_stream,
    "chat.completion.chunk": chat.render_stream,
    "text_completion.chunk": completions.render_stream,
    **anthropic.STREAM,
    **images_stream.STREAM,
    **gemini.STREAM,
    **responses.STREAM,
    **audio.STREAM,
}

__all__ = [
    "JSON_RENDERERS",
    "STREAM_RENDERERS",
    "Event",
    "NotStreamed",
    "Raw",
    "RenderContext",
    "RenderError",
    "StreamRenderer",
]
