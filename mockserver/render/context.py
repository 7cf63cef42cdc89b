"""What a renderer gets to work with."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.model import ContractSet, Example, Operation
from contracts.validation import Validators
from mockserver import ids
from mockserver.errors import MockError
from mockserver.state import StateStore

JsonRenderer = Callable[["RenderContext"], Any]
"""Returns a JSON-able body, or Raw for anything else."""
StreamRenderer = Callable[["RenderContext"], list["Event"]]
"""Returns the events of a stream, in order."""


class RenderError(MockError):
    """The request cannot be answered as asked (e.g. an unknown task id)."""


class NotStreamed(Exception):
    """Raised by a stream renderer for a request the provider answers without a stream although
    it asks for one (whisper-1 ignores ``stream``): the operation's JSON renderer answers."""


@dataclass(frozen=True, slots=True)
class Raw:
    """A non-JSON answer (audio, an image, text/srt): bytes and their media type."""

    body: bytes
    media_type: str
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers the answer carries besides the media type (Stability's seed)."""


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
    store: StateStore | None = None
    """State shared by every worker process (mockserver/state/), for what an id cannot carry."""
    contracts: ContractSet | None = None
    """Every loaded operation (a submit needs its poll operation)."""
    accept: str = ""
    """The request's Accept header (Stability answers raw image bytes to ``image/*``)."""
    uploads: dict[str, bytes] = field(default_factory=dict)
    """Multipart file fields: field name -> the file's bytes."""
    after: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    """Jobs the app runs in the background once the response is sent (e.g. task callbacks)."""
    minted: list[str] = field(default_factory=list)
    """The ids ``fresh_id`` gave, in order (an answer kept for reuse mints them anew:
    mockserver/answers.py)."""

    def fresh_id(self, prefix: str) -> str:
        """A new id in the provider's style, e.g. ``chatcmpl-<24 chars>``."""
        minted = f"{prefix}{ids.token(18)}"
        self.minted.append(minted)
        return minted

    def field(self, name: str, default: Any = None) -> Any:
        """A top-level field of the JSON body, or the default."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def int_field(self, name: str) -> int | None:
        """A whole-number field as an int (JSON Schema's integer admits 2.0), or None."""
        value = self.field(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value) if float(value).is_integer() else None
