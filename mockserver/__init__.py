"""The Starlette mock relay built from the contracts."""

from mockserver.app import create_app
from mockserver.config import MockConfig

__all__ = ["MockConfig", "create_app"]
