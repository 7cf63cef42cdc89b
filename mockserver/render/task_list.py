"""Task lists and cancels that agree with the tasks submitted (MJ list/query/queue/cancel,
Suno and Luma batches): every task is rendered through the same poll, then fitted into the list
example's shape.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.dotted import first, get_values, replace_strings, state_text
from contracts.model import Operation
from mockserver.render.context import JsonRenderer, RenderContext, RenderError
from mockserver.render.task import (
    LIST_LIMIT,
    NOT_CANCELLABLE_EXAMPLE,
    now_ms,
    operation,
    poll_task,
    servable,
    task_block,
    task_id_of,
)
from mockserver.tasks import decode_task_id

# --- cancel ------------------------------------------------------------------------------------


def render_cancel(ctx: RenderContext) -> Any:
    """Cancel a running task (it then polls in the cancel state); a finished task answers the
    ``not-cancellable`` example; an unknown id is a 404."""
    task = task_block(ctx.op)
    poll = operation(ctx, task.poll)
    if poll is None:
        raise RenderError(500, f"{ctx.op.id}: task.poll names no operation.")
    task_id = task_id_of(ctx, task.id_param)  # a cancel without one has its poll's
    now = now_ms()
    polled = poll_task(ctx, poll, task_id, now)
    if polled is None:
        raise RenderError(404, f"Task {task_id} not found.")
    if polled.terminal:
        refused = ctx.op.example(NOT_CANCELLABLE_EXAMPLE)
        if refused is None:
            raise RenderError(400, f"Task {task_id} cannot be cancelled: {polled.step.state}.")
        return copy.deepcopy(refused.value)
    if ctx.store is None or ctx.store.record_cancel(task_id, now) is None:
        raise RenderError(503, "The mock has no task store to remember the cancel in.")
    accepted = ctx.op.example()
    return copy.deepcopy(accepted.value) if accepted else {}


# --- lists: the same tasks as the poll shows them, in the list example's shape -----------------


@dataclass(frozen=True, slots=True)
class _Shape:
    """Where a list example keeps its tasks and how one item relates to a poll body."""

    array: tuple[str, ...]
    """Key path of the task array in the container (() when the container is the array)."""
    templates: list[Any]
    """Every task item of the list's examples of this shape."""
    prefix: str | None
    """Direct items: the part of the poll body that is an item ("" for all of it)."""
    wrap: str | None
    """Wrapped items: the item key that holds the poll body (a relay's task record)."""


def render_list(ctx: RenderContext) -> Any:
    """The requested (``ids``) or submitted tasks, rendered by the poll, in the list's shape.

    A list whose request examples carry ``ids`` lists those ids (none when absent); others list
    the tasks submitted to this mock (newest first, at most LIST_LIMIT).

    A list whose examples show only running tasks is a queue: it keeps the tasks not yet
    terminal, oldest first. A Spring page (``totalElements``) is filtered and paged.
    """
    container = copy.deepcopy(ctx.example.value) if ctx.example else []
    poll = operation(ctx, task_block(ctx.op).poll)
    shape = _shape(ctx.op, container, poll) if poll is not None else None
    if poll is None or shape is None:
        return container
    now = now_ms()
    ids = ctx.field("ids")
    page = isinstance(container, dict) and "totalElements" in container
    by_ids = not page and any(
        isinstance(e.value, dict) and "ids" in e.value for e in ctx.op.request.examples
    )  # a by-ids list (its request examples name ids) lists nothing when ids is absent
    if isinstance(ids, list):
        wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str) and i]
    elif by_ids:
        wanted = []
    else:
        found = ctx.store.submitted(poll.id, LIST_LIMIT * 10) if ctx.store else []
        wanted = [s.task_id for s in found]
    queue = bool(shape.templates) and all(
        not _template_terminal(poll, shape, t) for t in shape.templates
    )
    rows: list[tuple[int, Any]] = []
    for task_id in wanted:
        polled = poll_task(ctx, poll, task_id, now)
        if polled is None or polled.status is not None or (queue and polled.terminal):
            continue
        decoded = decode_task_id(task_id)
        rows.append((decoded.submitted_ms if decoded else 0, _fit(poll, shape, polled.body)))
    if page and isinstance(container, dict):
        return _page(ctx, container, shape, rows)
    if isinstance(container, dict) and "has_more" in container:
        return _cursor(ctx, container, shape, rows, task_block(poll).id_field)
    if queue:
        rows.sort(key=lambda r: r[0])
    items = [item for _, item in rows]
    if not isinstance(ids, list):
        items = items[:LIST_LIMIT]
    return _put(container, shape.array, items)


def _arrays(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list):
        return ()
    if isinstance(value, dict):
        return next(((k,) for k, v in value.items() if isinstance(v, list)), None)
    return None


def _shape(op: Operation, container: Any, poll: Operation) -> _Shape | None:
    array = _arrays(container)
    if array is None:
        return None
    templates: list[Any] = []
    for example in servable(op):
        if _arrays(example.value) == array and type(example.value) is type(container):
            found = _get_path(example.value, array)
            templates.extend(t for t in found if isinstance(t, dict))
    if not templates:
        return _Shape(array, [], "", None)
    first = templates[0]
    parts = task_block(poll).status_field.split(".")
    for i in range(len(parts) - 1, -1, -1):
        if get_values(first, ".".join(parts[i:])):
            return _Shape(array, templates, ".".join(parts[:i]), None)
    status_field = task_block(poll).status_field
    for key, value in first.items():
        if isinstance(value, dict) and get_values(value, status_field):
            return _Shape(array, templates, None, key)
    return _Shape(array, templates, "", None)


def _get_path(value: Any, path: tuple[str, ...]) -> list[Any]:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, list) else []


def _put(container: Any, path: tuple[str, ...], items: list[Any]) -> Any:
    if not path:
        return items
    container[path[0]] = items
    return container


def _inner(shape: _Shape, item: Any) -> Any:
    """The poll-body part of a list item (for reading its status)."""
    if shape.wrap is not None:
        return item.get(shape.wrap)
    return item


def _template_terminal(poll: Operation, shape: _Shape, template: Any) -> bool:
    status_field = task_block(poll).status_field if shape.wrap else _item_status(poll, shape)
    found = get_values(_inner(shape, template), status_field)
    return bool(found) and state_text(found[0]) in task_block(poll).terminal


def _fit(poll: Operation, shape: _Shape, body: Any) -> Any:
    """One list item made from a poll body, keys and extras as the list's examples have them."""
    if shape.wrap is not None:
        spec = task_block(poll)
        template = _best(shape.templates, body, lambda t: t.get(shape.wrap), spec.status_field)
        record = copy.deepcopy(template) if template is not None else {}
        old = first(get_values(record.get(shape.wrap), spec.id_field))
        new = first(get_values(body, spec.id_field))
        if isinstance(old, str) and isinstance(new, str):
            record = replace_strings(record, old, new)
        record[shape.wrap] = body
        return record
    item = first(get_values(body, shape.prefix)) if shape.prefix else body
    if not isinstance(item, dict) or not shape.templates:
        return item
    allowed = {k for t in shape.templates for k in t}
    fitted = {k: v for k, v in item.items() if k in allowed}
    template = _best(shape.templates, item, lambda t: t, _item_status(poll, shape))
    for key, value in (template or {}).items():
        if key not in item:  # extras only the list has (e.g. displays), from the closest item
            fitted[key] = copy.deepcopy(value)
    return fitted


def _item_status(poll: Operation, shape: _Shape) -> str:
    status_field = task_block(poll).status_field
    return status_field[len(shape.prefix) + 1 :] if shape.prefix else status_field


def _best(templates: list[Any], body: Any, inner: Callable[[Any], Any], status: str) -> Any:
    """The template most like ``body``: same status first, then most equal scalar fields."""
    want = get_values(body, status)

    def score(template: Any) -> tuple[bool, int]:
        t = inner(template)
        if not isinstance(t, dict) or not isinstance(body, dict):
            return (False, 0)
        equal = sum(
            1 for k, v in t.items() if not isinstance(v, dict | list) and body.get(k, v) == v
        )
        return (bool(want) and get_values(t, status) == want, equal)

    return max(templates, key=score, default=None)


def _page(
    ctx: RenderContext, page: dict[str, Any], shape: _Shape, rows: list[tuple[int, Any]]
) -> Any:
    """A Spring Data page of the items that pass the request's filters, by submit time
    (newest first, the default sort submitTime,desc, unless sort says asc)."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    ascending = "asc" in str(body.get("sort") or "").lower()
    rows = sorted(rows, key=lambda r: r[0], reverse=not ascending)
    items = [item for _, item in rows if _passes(item, body)]
    number = max(0, ctx.int_field("pageNumber") or 0)
    size = min(1000, max(1, ctx.int_field("pageSize") or int(page.get("size") or 10)))
    content = items[number * size : (number + 1) * size]
    total_pages = math.ceil(len(items) / size)
    values = {
        "totalElements": len(items),
        "totalPages": total_pages,
        "number": number,
        "size": size,
        "numberOfElements": len(content),
        "first": number == 0,
        "last": number >= total_pages - 1,
        "empty": not content,
    }
    for key, value in values.items():
        if key in page:
            page[key] = value
    pageable = page.get("pageable")
    if isinstance(pageable, dict):
        for key, value in (("pageNumber", number), ("pageSize", size), ("offset", number * size)):
            if key in pageable:
                pageable[key] = value
    return _put(page, shape.array, content)


CURSOR_LIMIT = 20


def _cursor(
    ctx: RenderContext,
    page: dict[str, Any],
    shape: _Shape,
    rows: list[tuple[int, Any]],
    id_field: str,
) -> Any:
    """An OpenAI cursor page ({data, first_id, last_id, has_more}): newest first unless
    ``order=asc``, the items after the ``after`` id, at most ``limit`` (20; 100 at most)."""
    ascending = ctx.query.get("order") == "asc"
    ordered = [item for _, item in sorted(rows, key=lambda r: r[0], reverse=not ascending)]
    ids = [first(get_values(item, id_field)) for item in ordered]
    after = ctx.query.get("after")
    start = ids.index(after) + 1 if after in ids else 0
    limit = ctx.query.get("limit") or ""
    size = min(LIST_LIMIT, max(1, int(limit))) if limit.isdigit() else CURSOR_LIMIT
    items = ordered[start : start + size]
    shown = ids[start : start + size]
    for key, value in (
        ("first_id", shown[0] if shown else None),
        ("last_id", shown[-1] if shown else None),
        ("has_more", start + size < len(ordered)),
    ):
        if key in page:
            page[key] = value
    return _put(page, shape.array, items)


_PAGING = ("pageNumber", "pageSize", "sort")


def _passes(item: Any, filters: dict[str, Any]) -> bool:
    """Every filter the item has a field for holds (strings: contains; lists: one of)."""
    if not isinstance(item, dict):
        return True
    for key, wanted in filters.items():
        if key in _PAGING or wanted is None:
            continue
        field = "id" if key == "ids" else key.removesuffix("Set")
        if field not in item:
            continue
        have = item[field]
        if isinstance(wanted, list):
            if have not in wanted:
                return False
        elif isinstance(wanted, str) and isinstance(have, str):
            if wanted not in have:
                return False
        elif have != wanted:
            return False
    return True


JSON: dict[str, JsonRenderer] = {
    "task.list": render_list,
    "task.cancel": render_cancel,
}
