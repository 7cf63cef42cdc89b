"""The contracts (YAML, one per documented operation) and the code that loads and compiles them.

This package imports none of mockserver, suites or reports.
"""

from contracts.loader import ContractError, default_contracts, load_contracts
from contracts.model import ContractSet, Operation

__all__ = ["ContractError", "ContractSet", "Operation", "default_contracts", "load_contracts"]
