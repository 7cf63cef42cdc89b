"""An event stream on its way out: frames encoded once, paced in one place, shaped by a fault.

Every stream the mock sends goes through ``frames_out``: the contract app's rendered events and
a replayed cassette's recorded ones. The producer hands over its encoded frames and its own
pacing (the app: ``ttfe``/``interval`` from the config or ``Prefer``; replay: the recorded
times). A fault injector in front of it (``mockserver/faults.py``) may have put a
``FrameShaper`` into the request's ASGI scope state: it sees each frame (to break one or end the
stream after N) and may replace the pacing. Nothing downstream splits the bytes into frames
again or paces them a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from starlette.types import Scope

from contracts.wire import sse
from mockserver.render.context import Event

SHAPER_KEY = "relaykit.frame_shaper"
"""Where a fault's FrameShaper is kept in the ASGI scope's ``state``."""


class Pacing(Protocol):
    """When the frames of a stream go out."""

    def before(self, index: int, started: float) -> float:
        """Seconds to wait before frame ``index``; ``started``: the monotonic clock when the
        stream began (read only by a pacing that needs it)."""
        ...


@dataclass(frozen=True, slots=True)
class Steady:
    """``ttfe`` before the first frame, ``interval`` before each of the others."""

    ttfe: float = 0.0
    interval: float = 0.0

    def before(self, index: int, started: float) -> float:
        """The delay before frame ``index``."""
        return self.ttfe if index == 0 else self.interval


@dataclass(frozen=True, slots=True)
class AtTimes:
    """Each frame at its own time since the stream began (a recording's); the rest at once."""

    times: Sequence[float]

    def before(self, index: int, started: float) -> float:
        """What is left to wait until frame ``index``'s time."""
        if index >= len(self.times):
            return 0.0
        return self.times[index] - (time.monotonic() - started)


class FrameShaper(Protocol):
    """What a fault does to a stream's frames (mockserver/faults.py has the one there is)."""

    def pacing(self, own: Pacing) -> Pacing:
        """The pacing to apply instead of the producer's own (or the producer's)."""
        ...

    def shape(self, frame: bytes) -> bytes | None:
        """The frame to send in its place; None ends the stream here."""
        ...

    def finished(self) -> None:
        """Every frame has been sent."""
        ...


def install_shaper(scope: Scope, shaper: FrameShaper) -> None:
    """Hand the request's stream (if it has one) to ``shaper``."""
    scope.setdefault("state", {})[SHAPER_KEY] = shaper


def shaper_of(scope: Scope) -> FrameShaper | None:
    """The shaper a fault installed for this request, if any."""
    state = scope.get("state")
    return state.get(SHAPER_KEY) if state else None


def event_frame(event: Event) -> bytes:
    """A rendered event as its SSE frame (JSON data serialised compactly)."""
    data = event.data if isinstance(event.data, str) else orjson.dumps(event.data).decode()
    return sse.encode(data, event.name)


async def frames_out(
    frames: Iterable[bytes],
    pacing: Pacing,
    shaper: FrameShaper | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[bytes]:
    """The frames as they should go out: shaped, each after its delay."""
    if shaper is not None:
        pacing = shaper.pacing(pacing)
    started = time.monotonic()
    for index, frame in enumerate(frames):
        if shaper is not None:
            shaped = shaper.shape(frame)
            if shaped is None:
                return
            frame = shaped
        delay = pacing.before(index, started)
        if delay > 0:
            await sleep(delay)
        yield frame
    if shaper is not None:
        shaper.finished()
