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

CONSTANT_JSON = frozenset({"static", "models"})
"""JSON renderers whose answer depends on the operation and its example only, never on the
request (the example as documented; the model list of the contracts): the app renders each
(operation, example) once and keeps the bytes."""

REPEATABLE_JSON = CONSTANT_JSON | {"chat.completion", "text_completion", "embeddings"}
"""JSON renderers whose answer is a function of the request, apart from the ids they mint
(``ctx.fresh_id``) and the clock they read (``ctx.now``): no state, no randomness, no jobs.
The app keeps their answers for a request that comes again (mockserver/answers.py);
tests/mockserver/test_answers.py renders every example of theirs twice to hold them to it."""

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

REPEATABLE_STREAM = frozenset({"static", "chat.completion.chunk", "text_completion.chunk"})
"""Stream renderers of which REPEATABLE_JSON's promise holds (their events, in order)."""

__all__ = [
    "CONSTANT_JSON",
    "JSON_RENDERERS",
    "REPEATABLE_JSON",
    "REPEATABLE_STREAM",
    "STREAM_RENDERERS",
    "Event",
    "NotStreamed",
    "Raw",
    "RenderContext",
    "RenderError",
    "StreamRenderer",
]
