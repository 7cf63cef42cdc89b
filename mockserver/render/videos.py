"""OpenAI video jobs beyond submit, poll and list: the content download and the delete.

Both act on a job the poll operation answers: the poll on the same path (delete) or on the
parent path (``/v1/videos/{video_id}/content``). The content of a completed job is real bytes:
the MP4 of contracts/media, its thumbnail as WEBP and its spritesheet as JPEG (of the job's
size, scaled to fit MAX_SIDE); a job that is not completed, or unknown, is a 404.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.media import asset, image
from contracts.model import Operation
from mockserver.files import MAX_SIDE
from mockserver.render.context import JsonRenderer, Raw, RenderContext, RenderError
from mockserver.render.imagekit import parse_size
from mockserver.render.task import Polled, now_ms, poll_task, task_block, task_id_of

VARIANTS = {"video": "mp4", "thumbnail": "webp", "spritesheet": "jpg"}
"""``variant`` -> the kind of file it downloads."""
THUMBNAIL_SIDE = 512
"""The longest side of a thumbnail or spritesheet."""


def poll_of(ctx: RenderContext) -> Operation:
    """The poll operation of the job this request names: on this path or its parent."""
    parent = ctx.op.path.rsplit("/", 1)[0]
    for op in ctx.contracts or ():
        if op.task_role == "poll" and op.method == "GET" and op.path in (ctx.op.path, parent):
            return op
    raise RenderError(500, f"{ctx.op.id}: no poll operation answers {parent}.")


def _job(ctx: RenderContext) -> tuple[str, Polled]:
    poll = poll_of(ctx)
    job_id = task_id_of(ctx, task_block(poll).id_param)
    polled = poll_task(ctx, poll, job_id, now_ms())
    if polled is None or polled.status is not None:
        raise RenderError(404, f"Video with id '{job_id}' not found.")
    return job_id, polled


def _thumbnail_size(job: Any) -> tuple[int, int]:
    width, height = parse_size(job.get("size") if isinstance(job, dict) else None) or (720, 1280)
    scale = min(1.0, THUMBNAIL_SIDE / max(width, height), MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_content(ctx: RenderContext) -> Raw:
    """The completed job's file for ``variant`` (video by default)."""
    variant = ctx.query.get("variant") or "video"
    kind = VARIANTS.get(variant)
    if kind is None:
        raise RenderError(400, f"variant: {variant!r} is not one of {', '.join(VARIANTS)}.")
    job_id, polled = _job(ctx)
    if polled.step.failed or polled.step.state != task_block(poll_of(ctx)).success:
        state = polled.step.state
        raise RenderError(404, f"Video '{job_id}' has no content: it is {state}, not completed.")
    if kind == "mp4":
        data, media_type = asset(kind)
    else:
        data, media_type = image(kind, *_thumbnail_size(polled.body))
    return Raw(data, media_type)


def render_delete(ctx: RenderContext) -> Any:
    """The deletion confirmation of a job this mock issued (the example with its id)."""
    job_id, _ = _job(ctx)
    body = copy.deepcopy(ctx.example.value) if ctx.example else {}
    if not isinstance(body, dict):
        body = {}
    return {**body, "id": job_id, "deleted": True}


JSON: dict[str, JsonRenderer] = {
    "videos.content": render_content,
    "videos.delete": render_delete,
}
