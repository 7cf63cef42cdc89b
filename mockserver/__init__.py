"""The Starlette mock relay built from the contracts.

``create_app`` is imported when first used (PEP 562): a process that only needs the settings
(`relaykit serve --workers N` before it starts its workers) does not import the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.config import MockConfig

if TYPE_CHECKING:
    from mockserver.app import create_app

__all__ = ["MockConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
