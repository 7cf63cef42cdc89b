"""Async task submit and poll, from the contract's ``task`` block (see mockserver/tasks.py)."""

from __future__ import annotations

import copy
import time
from typing import Any

from contracts.selection import field_values
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.render.context import RenderContext, RenderError
from mockserver.tasks import decode_task_id, new_task_id, state_at


def set_values(node: Any, dotted: str, value: Any) -> None:
    """Set every place a dotted path reaches (``*`` walks arrays and object values)."""
    head, _, rest = dotted.partition(".")
    targets: list[Any]
    if head == "*":
        targets = (
            list(node.values())
            if isinstance(node, dict)
            else list(node)
            if isinstance(node, list)
            else []
        )
        if not rest:
            return
        for t in targets:
            set_values(t, rest, value)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        node[head] = value(node[head]) if callable(value) else value
    elif head in node:
        set_values(node[head], rest, value)


def _replace_strings(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: _replace_strings(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_strings(v, old, new) for v in node]
    return new if node == old else node


def render_submit(ctx: RenderContext) -> Any:
    """The submit example with a fresh task id that encodes the time and the scenario."""
    body = copy.deepcopy(ctx.example.value) if ctx.example else {}
    task = ctx.op.task or {}
    id_field = task.get("id_field", "id")
    old = next(iter(field_values(body, id_field)), None)
    set_values(body, id_field, new_task_id(old, int(time.time() * 1000), ctx.scenario))
    return body


def _task_id(ctx: RenderContext, param: str) -> str:
    value = ctx.path_params.get(param) or ctx.query.get(param) or ctx.field(param)
    if not isinstance(value, str) or not value:
        raise RenderError(400, f"Missing task id ({param}).")
    return value


def render_poll(ctx: RenderContext) -> Any:
    """The task as it stands now: state and progress off the timeline, result URLs served here."""
    task = ctx.op.task or {}
    task_id = _task_id(ctx, task.get("id_param", "id"))
    decoded = decode_task_id(task_id)
    if decoded is None:
        raise RenderError(404, f"Task {task_id} not found.")
    elapsed = (time.time() * 1000 - decoded.submitted_ms) / 1000 * ctx.task_speed
    step = state_at(task, elapsed, decoded.scenario)
    status_field = task["status_field"]
    examples = [e for e in ctx.op.response.examples if e.servable]
    by_state = {
        next(iter(field_values(e.value, status_field)), None): e for e in reversed(examples)
    }
    chosen = by_state.get(step["state"]) or by_state.get(task["success"]) or examples[0]
    body = copy.deepcopy(chosen.value)
    old_id = next(iter(field_values(body, task.get("id_field", "id"))), None)
    if isinstance(old_id, str):
        body = _replace_strings(body, old_id, task_id)
    set_values(body, status_field, step["state"])
    if "progress" in step and task.get("progress_field"):
        set_values(body, task["progress_field"], step["progress"])
    if step["state"] == task["success"]:
        counter = iter(range(10_000))  # one numbering for all result URLs: unique file names

        def serve(url: Any) -> Any:
            return _served(ctx, task_id, url, next(counter))

        for path in task.get("result_urls", []):
            set_values(body, path, serve)
    return body


def _served(ctx: RenderContext, task_id: str, url: Any, index: int) -> Any:
    if not isinstance(url, str) or not url:
        return url
    ext = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    if ext not in SERVED_KINDS:
        return url  # video and other kinds are not served yet: keep the documented URL
    return f"{ctx.base_url.rstrip('/')}{FILES_PREFIX}{task_id}-{index}.{ext}"
