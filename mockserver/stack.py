"""The mock as `relaykit serve` runs it: the contract app, optionally behind recorded cassettes,
always behind the fault injector (which does nothing unless a rule or a request asks), and
outermost the request journal (unless ``journal`` is 0)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp

from contracts.model import ContractSet
from mockserver.app import MockRelay, create_app
from mockserver.config import MockConfig
from mockserver.faults import FaultMiddleware, load_fault_rules
from mockserver.journal import JournalMiddleware
from mockserver.state import StateStore, open_store


@dataclass(frozen=True, slots=True)
class Stack:
    """The served app and the layers a caller may want to reach (an embedded mock sets faults
    and pacing on them, and reads the journal from the store)."""

    app: ASGIApp
    relay: MockRelay
    faults: FaultMiddleware
    journal: JournalMiddleware | None
    store: StateStore


def build_stack(
    contracts: ContractSet, config: MockConfig, store: StateStore | None = None
) -> Stack:
    """create_app, wrapped by replay (when ``replay_dir``), fault injection and the journal;
    every layer shares one state store (``store``, or the one ``config`` names)."""
    store = store or open_store(config.state_url, config.state_dir)
    relay = create_app(contracts, config, store)
    app: ASGIApp = relay
    if config.replay_dir:
        from mockserver.replay import ReplayApp

        app = ReplayApp(Path(config.replay_dir), fallback=app, timing=config.replay_timing)
    rules = load_fault_rules(Path(config.faults_file)) if config.faults_file else None
    faults = FaultMiddleware(app, contracts, rules, config)
    journal = None
    if config.journal > 0:
        shared = config.workers > 1 or bool(config.state_url)  # other processes write too
        journal = JournalMiddleware(
            faults, store, config.journal, relay.resolver, relay.default_envelope, shared
        )
    return Stack(journal or faults, relay, faults, journal, store)


def serving_app(contracts: ContractSet, config: MockConfig) -> ASGIApp:
    """The served app of ``build_stack``."""
    return build_stack(contracts, config).app
