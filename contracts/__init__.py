"""The contracts (YAML, one per documented operation) and the code that loads and compiles them.

This package imports none of mockserver, suites or reports. Its names are imported when first
used (PEP 562), so that importing one light module (``contracts.model``, ``contracts.cache``)
does not import the loader and its JSON Schema libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.loader import ContractError, default_contracts, load_contracts
    from contracts.model import ContractSet, Operation

__all__ = ["ContractError", "ContractSet", "Operation", "default_contracts", "load_contracts"]

_HOMES = {
    "ContractError": "contracts.loader",
    "default_contracts": "contracts.loader",
    "load_contracts": "contracts.loader",
    "ContractSet": "contracts.model",
    "Operation": "contracts.model",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
