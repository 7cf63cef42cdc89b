"""Dotted paths into JSON documents ('*' walks array elements and object values), and state values.

The mock's task renderers and the suites' task checks read task ids, states, progress and
result URLs through these.
"""

from __future__ import annotations

import json
from typing import Any

# --- dotted paths: '*' walks array elements and object values ------------------------------


def get_values(node: Any, dotted: str, arrays_only: bool = False) -> list[Any]:
    """The values a dotted path reaches: ``*`` walks arrays and object values (only arrays when
    ``arrays_only``: a request's ``match`` fields, where a list is what the field means)."""
    current = [node]
    for part in dotted.split(".") if dotted else ():
        found: list[Any] = []
        for n in current:
            if part == "*":
                if isinstance(n, list):
                    found.extend(n)
                elif isinstance(n, dict) and not arrays_only:
                    found.extend(n.values())
            elif isinstance(n, dict) and part in n:
                found.append(n[part])
        current = found
    return current


def slots(node: Any, dotted: str) -> list[tuple[Any, Any]]:
    """(container, key) of every existing place a dotted path reaches."""
    *head, last = dotted.split(".")
    out: list[tuple[Any, Any]] = []
    for n in get_values(node, ".".join(head)):
        if last == "*" and isinstance(n, list):
            out.extend((n, i) for i in range(len(n)))
        elif last == "*" and isinstance(n, dict):
            out.extend((n, k) for k in n)
        elif isinstance(n, dict) and last in n:
            out.append((n, last))
    return out


def set_values(node: Any, dotted: str, value: Any) -> None:
    """Set every existing place a dotted path reaches; a callable maps the old value."""
    for container, key in slots(node, dotted):
        container[key] = value(container[key]) if callable(value) else value


def first(values: list[Any]) -> Any:
    return values[0] if values else None


def replace_strings(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: replace_strings(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [replace_strings(v, old, new) for v in node]
    return new if node == old else node


def state_text(value: Any) -> str:
    """A status value as the task block writes states (booleans as "true"/"false")."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def typed(state: str, like: Any) -> Any:
    """The state in the type the example uses for its status (a boolean, a number...)."""
    if isinstance(like, str) or like is None:
        return state
    try:
        value = json.loads(state)
    except ValueError:
        return state
    return value if type(value) is type(like) or isinstance(like, float) else state
