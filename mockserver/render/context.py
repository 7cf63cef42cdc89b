"""What a renderer gets to work with."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from contracts.model import Example, Operation
from contracts.validation import Validators


class RenderError(Exception):
    """The request cannot be answered as asked (e.g. an unknown task id): status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: an optional name and its JSON payload (or a raw data string)."""

    data: Any
    name: str | None = None


@dataclass(slots=True)
class RenderContext:
    """The selected operation, the request, and the example chosen to answer it."""

    op: Operation
    body: Any
    example: Example | None
    validators: Validators
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    now: int = field(default_factory=lambda: int(time.time()))
    base_url: str = "http://127.0.0.1"
    scenario: str = "success"
    task_speed: float = 1.0

    def fresh_id(self, prefix: str) -> str:
        """A new id in the provider's style, e.g. ``chatcmpl-<24 chars>``."""
        return f"{prefix}{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"

    def field(self, name: str, default: Any = None) -> Any:
        """A top-level field of the JSON body, or the default."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def int_field(self, name: str) -> int | None:
        """A whole-number field as an int (JSON Schema's integer admits 2.0), or None."""
        value = self.field(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value) if float(value).is_integer() else None
