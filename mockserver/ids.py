"""Random tokens for the ids a mock mints (``chatcmpl-<24 chars>``, ``X-Request-Id``).

A mock's ids must be unique and look like the provider's, not resist guessing: they come from
a Mersenne Twister seeded from the OS once per process (re-seeded in a forked child, so two
workers never mint the same ids), not from ``os.urandom`` (one system call per id, ~5% of a
chat answer's time). Task ids, whose formats carry more than randomness, use mockserver/tasks.py.
"""

from __future__ import annotations

import base64
import os
import random

_rng = random.Random()


def _reseed() -> None:
    _rng.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def token(nbytes: int) -> str:
    """``4 * nbytes / 3`` characters of ``[A-Za-z0-9xy]`` (URL-safe base64 with ``-`` and ``_``
    written as ``x`` and ``y``, as the mock's ids always were)."""
    raw = base64.urlsafe_b64encode(_rng.randbytes(nbytes)).rstrip(b"=")
    return raw.replace(b"-", b"x").replace(b"_", b"y").decode("ascii")


def hex_token(nbytes: int) -> str:
    """``2 * nbytes`` lower-case hex digits."""
    return _rng.randbytes(nbytes).hex()
