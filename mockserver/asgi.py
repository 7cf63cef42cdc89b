"""An app factory for process managers (``uvicorn --factory``, ``relaykit serve --workers N``).

Worker processes cannot receive Python objects, so the settings travel in the environment
variable ``RELAYKIT_MOCK_CONFIG`` as JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from contracts.cache import cached_contracts
from mockserver.config import MockConfig

ENV_VAR = "RELAYKIT_MOCK_CONFIG"


def dump_config(config: MockConfig, contract_dirs: list[str] | None = None) -> str:
    """The JSON that ``app_from_env`` reads back."""
    data: dict[str, Any] = asdict(config)
    data["api_keys"] = sorted(config.api_keys)
    data["contract_dirs"] = contract_dirs or []
    return json.dumps(data)


def app_from_env() -> ASGIApp:
    """Build the app from ``RELAYKIT_MOCK_CONFIG`` (defaults when unset)."""
    data = json.loads(os.environ.get(ENV_VAR, "{}"))
    dirs = data.pop("contract_dirs", [])
    data["api_keys"] = frozenset(data.get("api_keys", []))
    data["path_map"] = tuple(tuple(pair) for pair in data.get("path_map", []))
    from mockserver.stack import serving_app  # the app itself: not needed by dump_config

    contracts = cached_contracts([Path(d) for d in dirs] if dirs else None)
    return serving_app(contracts, MockConfig(**data))
