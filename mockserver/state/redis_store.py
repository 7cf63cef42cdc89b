"""The shared store: Redis (``relaykit serve --state-url redis://host:port/db``), so that mock
processes with different state directories, on one machine or several behind a load balancer,
agree on tasks, stored facts and the request journal.

Keys: ``relaykit:kv:<kind>:<key>`` (a string, ``PX`` for a TTL), ``relaykit:log:<name>`` (a list
of ``"<seq> <json>"``, trimmed on every append by one Lua script, so concurrent appends from
several processes keep their order) and ``relaykit:seq:<name>`` (the log's counter). The
client is the ``redis`` package (an optional dependency: ``pip install 'relaykit[redis]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mockserver.state.base import StateStore, StateUrlError, StoreFailure

if TYPE_CHECKING:
    import redis

PREFIX = "relaykit:"
TIMEOUT = 2.0
"""Seconds to connect, and to wait for any one answer."""
_APPEND = """
local seq = 0
for i = 2, #ARGV do
    seq = redis.call('INCR', KEYS[2])
    redis.call('RPUSH', KEYS[1], seq .. ' ' .. ARGV[i])
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
return seq
"""


class RedisStore(StateStore):
    """The store in the Redis database at ``url``."""

    def __init__(self, url: str, where: str) -> None:
        try:
            import redis
        except ImportError:
            raise StateUrlError(
                "--state-url redis://... needs the redis client: pip install 'relaykit[redis]'"
            ) from None
        self.where = where
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            self.client: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
            )
        except (ValueError, TypeError) as exc:
            raise StateUrlError(f"--state-url {where}: {exc}") from None
        self._append_script = self.client.register_script(_APPEND)

    def check(self) -> None:
        try:
            self.client.ping()
        except self._errors as exc:
            raise StateUrlError(f"--state-url {self.where}: cannot reach Redis: {exc}") from None

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except self._errors as exc:
            raise StoreFailure(str(exc)) from exc

    def _put(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> None:
        self._call("set", _kv(kind, key), value, px=ttl_ms)

    def _add(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> tuple[bytes, bool]:
        if self._call("set", _kv(kind, key), value, px=ttl_ms, nx=True):
            return value, True
        held = self._call("get", _kv(kind, key))
        if held is None:  # expired between the two calls: try once more
            return self._add(kind, key, value, ttl_ms)
        return bytes(held), False

    def _update(
        self, kind: str, key: str, change: Callable[[bytes | None], bytes], ttl_ms: int | None
    ) -> bytes:
        name = _kv(kind, key)
        written: list[bytes] = []

        def attempt(pipe: redis.client.Pipeline) -> None:  # WATCHed: retried if name changes
            held: Any = pipe.get(name)  # bytes: the client does not decode responses
            value = change(None if held is None else bytes(held))
            pipe.multi()
            pipe.set(name, value, px=ttl_ms)
            written[:] = [value]

        try:
            self.client.transaction(attempt, name)
        except self._errors as exc:
            raise StoreFailure(str(exc)) from exc
        return written[0]

    def _get(self, kind: str, key: str) -> bytes | None:
        held = self._call("get", _kv(kind, key))
        return None if held is None else bytes(held)

    def _delete(self, kind: str, key: str) -> bool:
        return bool(self._call("delete", _kv(kind, key)))

    def _append(self, name: str, entries: list[bytes], keep: int) -> int:
        try:
            seq = self._append_script(keys=[_log(name), _seq(name)], args=[keep, *entries])
        except self._errors as exc:
            raise StoreFailure(str(exc)) from exc
        return int(seq)

    def _tail(self, name: str, limit: int) -> list[tuple[int, bytes]]:
        if limit <= 0:
            return []
        rows = self._call("lrange", _log(name), -limit, -1)
        found = []
        for row in rows:
            seq, _, entry = bytes(row).partition(b" ")
            found.append((int(seq), entry))
        return found

    def _clear(self, name: str) -> None:
        self._call("delete", _log(name))


def _kv(kind: str, key: str) -> str:
    return f"{PREFIX}kv:{kind}:{key}"


def _log(name: str) -> str:
    return f"{PREFIX}log:{name}"


def _seq(name: str) -> str:
    return f"{PREFIX}seq:{name}"
