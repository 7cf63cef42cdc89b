"""The event loop and HTTP parser uvicorn runs the mock on.

uvloop and httptools (``uvicorn[standard]``, a dependency) are several times faster than
asyncio's loop and h11; where they cannot be imported (no wheel for the platform, a broken
build) the mock runs on asyncio and h11, with the same behaviour. The choice is made once, by
the command, and named in its start-up line.
"""

from __future__ import annotations

import importlib


def _imports(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:  # ImportError, or a binary extension that fails to load
        return False
    return True


def server_stack() -> tuple[str, str]:
    """(loop, http) as uvicorn names them: ("uvloop", "httptools") or the pure fallbacks."""
    loop = "uvloop" if _imports("uvloop") else "asyncio"
    http = "httptools" if _imports("httptools") else "h11"
    return loop, http
