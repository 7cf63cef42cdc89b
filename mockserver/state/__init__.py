"""What the mock remembers across requests and worker processes, in one store.

``open_store`` gives the store a server uses: SQLite in the state directory (the default, safe
across ``--workers``) or Redis (``relaykit serve --state-url redis://host:port/db``), so that
several mock processes, on one machine or behind one load balancer, agree. Every backend offers
the same small interface (``StateStore``): the task operations (submitted, listed, cancelled), a
namespaced key-value with an optional TTL for facts kept per id (``put``, ``get``, ``delete``;
``add``: the first value wins; ``update`` and ``merge``: atomic read-modify-write, RFC 7396 for
merge), and bounded ordered logs (the request journal).
"""

from __future__ import annotations

from mockserver.state.base import Json, LogEntry, StateStore, StateUrlError, Submitted
from mockserver.state.open import open_store, redact_url

__all__ = [
    "Json",
    "LogEntry",
    "StateStore",
    "StateUrlError",
    "Submitted",
    "open_store",
    "redact_url",
]
