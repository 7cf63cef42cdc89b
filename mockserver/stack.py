"""The mock as `relaykit serve` runs it: the contract app, optionally behind recorded cassettes,
always behind the fault injector (which does nothing unless a rule or a request asks)."""

from __future__ import annotations

from pathlib import Path

from starlette.types import ASGIApp

from contracts.model import ContractSet
from mockserver.app import create_app
from mockserver.config import MockConfig


def serving_app(contracts: ContractSet, config: MockConfig) -> ASGIApp:
    """create_app, wrapped by replay (when ``replay_dir``) and by fault injection."""
    from mockserver.faults import FaultMiddleware, load_fault_rules

    app: ASGIApp = create_app(contracts, config)
    if config.replay_dir:
        from mockserver.replay import ReplayApp

        app = ReplayApp(Path(config.replay_dir), fallback=app, timing=config.replay_timing)
    rules = load_fault_rules(Path(config.faults_file)) if config.faults_file else None
    return FaultMiddleware(app, contracts, rules, config)
