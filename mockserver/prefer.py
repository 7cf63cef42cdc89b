"""Per-request choices a client makes through the ``Prefer`` header (as Prism does).

``Prefer: example=tool-call, code=429, ttfe-ms=300, interval-ms=40, task=failure``

``task=`` takes a scenario (success, failure, banned) or any state of the task's poll
(``task=throttled``, ``task=not-start``, ``task="Request Moderated"``): a submit checks it
against its poll's states (mockserver/render/task.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.tasks import SCENARIOS


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the request asked for; None where it did not ask."""

    example: str | None = None
    code: int | None = None
    ttfe: float | None = None
    interval: float | None = None
    task: str | None = None


class PreferError(ValueError):
    """The Prefer header asks for something malformed."""


def prefer_values(header: str) -> dict[str, str]:
    """The ``name=value`` preferences of a Prefer header (names lower-cased, quotes dropped);
    the mock's own preferences and the fault injector's are read from the same header."""
    values: dict[str, str] = {}
    for part in header.replace(";", ",").split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            values[key.strip().lower()] = value.strip().strip('"')
    return values


def parse_prefer(header: str | None) -> Preferences:
    """Parse a Prefer header; unknown preferences are ignored, as RFC 7240 asks."""
    if not header:
        return Preferences()
    values = prefer_values(header)
    try:
        code = int(values["code"]) if "code" in values else None
        ttfe = float(values["ttfe-ms"]) / 1000 if "ttfe-ms" in values else None
        interval = float(values["interval-ms"]) / 1000 if "interval-ms" in values else None
    except ValueError as exc:
        raise PreferError(f"Prefer header: {exc}") from None
    if code is not None and not 400 <= code <= 599:
        raise PreferError(f"Prefer header: code={code} is not an error status (400-599)")
    for name, v in (("ttfe-ms", ttfe), ("interval-ms", interval)):
        if v is not None and not 0 <= v <= 60:
            raise PreferError(f"Prefer header: {name} must be between 0 and 60000")
    task = values.get("task")
    if task is not None and not task.strip():
        raise PreferError(f"Prefer header: task= needs one of {', '.join(SCENARIOS)} or a state")
    return Preferences(
        example=values.get("example"), code=code, ttfe=ttfe, interval=interval, task=task
    )
