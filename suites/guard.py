"""When a run stops sending: at its deadline, or as soon as the relay is plainly not answering.

The transport asks the guard before every request; once it says stop, nothing more is sent
(``RunStopped``) and every check still to run is recorded as a SKIP with the reason. Requests
already sent end within their own deadlines, so a run ends by ``run_seconds`` plus one
request's deadline (and a check's local work).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

FIRST = 10
"""How many of a run's first requests the not-answering rule looks at."""
NOT_ANSWERING = 6
"""Failed ones among them that stop the run: most of them, so one dead endpoint does not."""


class RunGuard:
    """Thread-safe; ``note`` each finished request (its failure kind, '' when answered)."""

    def __init__(self, run_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.run_seconds = run_seconds
        self.clock = clock
        self.ends_at = clock() + run_seconds
        self.first: list[str] = []
        self.reason = ""
        self._lock = threading.Lock()

    def time_left(self) -> float:
        """Seconds until the run deadline (0 once it passed)."""
        return max(0.0, self.ends_at - self.clock())

    def stopped(self) -> str:
        """Why the run sends nothing more, or '' while it may send."""
        with self._lock:
            if not self.reason and self.clock() >= self.ends_at:
                self.reason = f"run deadline ({self.run_seconds:g} s) reached"
            return self.reason

    def note(self, failure: str) -> None:
        """Count one finished request among the first ones: ``failure`` is what went wrong
        in a few words ('timed out', 'broke off'...), '' when the relay answered."""
        with self._lock:
            if self.reason or len(self.first) >= FIRST:
                return
            self.first.append(failure)
            failed = [f for f in self.first if f]
            if len(failed) >= NOT_ANSWERING:
                kinds = Counter(failed).most_common()
                how = kinds[0][0] if len(kinds) == 1 else "got no answer"
                self.reason = (
                    f"relay not answering: {len(failed)} of the first {len(self.first)} "
                    f"requests {how}"
                )
