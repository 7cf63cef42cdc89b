"""A real redis-server (the Debian package) on a free loopback port, for the state store's
tests: no persistence, its files in a temporary directory, stopped when the block ends."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.serving import free_port, stop


@contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Run ``redis-server`` until the block ends; yields its URL (``redis://127.0.0.1:<port>``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="relaykit-redis-") as workdir:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        url = f"redis://127.0.0.1:{port}"
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1)
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    out = proc.stdout.read() if proc.stdout else ""
                    raise RuntimeError(f"redis-server exited: {out}")
                try:
                    if client.ping():
                        break
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not answer PING")
                time.sleep(0.05)
            client.close()
            yield url
        finally:
            stop(proc)
