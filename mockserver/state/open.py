"""The store a mock uses: from ``--state-url`` when given, else SQLite in the state directory."""

from __future__ import annotations

import tempfile
from urllib.parse import urlsplit, urlunsplit

from mockserver.state.base import StateStore, StateUrlError

REDIS_SCHEMES = ("redis", "rediss", "unix")


def open_store(state_url: str = "", state_dir: str = "") -> StateStore:
    """The store for ``state_url`` (``redis://host:port/db``), or SQLite in ``state_dir`` (a
    fresh temporary directory when empty). A URL that cannot be used raises StateUrlError."""
    if not state_url:
        from mockserver.state.sqlite import SqliteStore

        return SqliteStore(state_dir or tempfile.mkdtemp(prefix="relaykit-mock-"))
    where = redact_url(state_url)
    scheme = urlsplit(state_url).scheme.lower() if "://" in state_url else ""
    if scheme not in REDIS_SCHEMES:
        raise StateUrlError(
            f"--state-url {where}: not a Redis URL (redis://host:port/db, rediss://... or "
            "unix:///path.sock); leave it out for SQLite in the state directory"
        )
    from mockserver.state.redis_store import RedisStore

    return RedisStore(state_url, where)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
    except ValueError:
        return "<an unreadable URL>"
