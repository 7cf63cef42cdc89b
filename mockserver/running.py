"""A mock running in this process, with handles a test uses: its URL, faults and pacing to set
while it runs, and the journal of what clients sent.

``run_mock`` serves the whole stack (mockserver/stack.py) in a thread on a free loopback port
(mockserver/background.py), its state in a temporary directory removed afterwards. The pytest
fixtures (mockserver/pytest_plugin.py) are built on it; it works without pytest too::

    with run_mock() as mock:
        client = openai.OpenAI(base_url=f"{mock.url}/v1", api_key="sk-test")
        ...
        assert mock.requests(operation="openai.chat.*")[-1]["body"]["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from contracts.loader import default_contracts
from contracts.model import ContractSet
from mockserver.background import serve_in_thread
from mockserver.config import MockConfig
from mockserver.fault_rules import FaultRules, rules_from_dict
from mockserver.stack import Stack, build_stack


class RunningMock:
    """One running mock: ``url`` (``http://127.0.0.1:<port>``; OpenAI clients take
    ``f"{url}/v1"``), and what a test may change or ask while it runs."""

    def __init__(self, url: str, stack: Stack, contracts: ContractSet) -> None:
        self.url = url
        self.stack = stack
        self.contracts = contracts
        self._start_config = stack.relay.config
        self._start_rules = stack.faults.rules

    @property
    def config(self) -> MockConfig:
        """The settings in force (pacing included)."""
        return self.stack.relay.config

    def fault(
        self,
        fault: str | int,
        *,
        operation: str | list[str] | None = None,
        path: str | list[str] | None = None,
        method: str | list[str] | None = None,
        times: int | None = None,
        probability: float | None = None,
        **params: float,
    ) -> None:
        """Add a fault rule, as a ``--faults`` file writes it: ``fault(429, retry_after=1,
        times=1)``, ``fault("cut", after=3, operation="openai.chat.completions.stream")``.
        Parameters take ``_`` for ``-`` (``latency_ms``, ``interval_ms``...). Earlier rules are
        tried first; a ``Prefer: fault=...`` header still wins. A bad rule raises
        ``FaultRulesError`` naming the field."""
        rule: dict[str, Any] = {"fault": fault}
        match = {
            k: v for k, v in (("operation", operation), ("path", path), ("method", method)) if v
        }
        if match:
            rule["match"] = match
        if times is not None:
            rule["times"] = times
        if probability is not None:
            rule["probability"] = probability
        rule.update({name.replace("_", "-"): value for name, value in params.items()})
        added = rules_from_dict({"rules": [rule]}, "mock.fault()")
        added.check_operations(op.id for op in self.contracts.operations)
        current = self.stack.faults.rules
        if current is None:
            self.stack.faults.rules = added
            return
        new = added.rules[0]
        new.index = len(current.rules)
        current.rules.append(new)

    def clear_faults(self) -> None:
        """Back to the rules the mock started with (none, or its ``faults_file``)."""
        start = self._start_rules
        self.stack.faults.rules = (
            None if start is None else FaultRules(list(start.rules), start.seed, start.source)
        )

    def pace(self, ttfe_ms: float | None = None, interval_ms: float | None = None) -> None:
        """Set the stream pacing: delay before the first event, between events (ms)."""
        config = self.stack.relay.config
        self.stack.relay.config = dataclasses.replace(
            config,
            ttfe=config.ttfe if ttfe_ms is None else ttfe_ms / 1000,
            interval=config.interval if interval_ms is None else interval_ms / 1000,
        )

    def requests(
        self,
        operation: str | None = None,
        *,
        path: str | None = None,
        method: str | None = None,
        since: str | float | datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """What clients sent, oldest first (mockserver/journal.py describes an entry): those of
        the operation (a glob: ``openai.chat.*``), path (a glob), method, arrived since."""
        if self.stack.journal is None:
            raise RuntimeError("the request journal is off for this mock (journal=0)")
        return self.stack.journal.entries(
            operation=operation,
            path=path,
            method=method,
            since=since,
            limit=limit,
        )

    def clear_requests(self) -> None:
        """Empty the journal."""
        if self.stack.journal is not None:
            self.stack.journal.clear()

    def reset(self) -> None:
        """Faults, pacing and journal as they were when the mock started."""
        self.clear_faults()
        self.stack.relay.config = self._start_config
        self.clear_requests()


@contextmanager
def run_mock(
    contracts: ContractSet | None = None, config: MockConfig | None = None
) -> Iterator[RunningMock]:
    """Serve the mock until the block ends (its own temporary state directory unless
    ``config`` names a state directory or URL)."""
    contracts = contracts or default_contracts()
    config = config or MockConfig()
    with ExitStack() as cleanup:
        if not config.state_dir and not config.state_url:
            state = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="relaykit-mock-"))
            config = dataclasses.replace(config, state_dir=state)
        stack = build_stack(contracts, config)
        cleanup.callback(stack.store.close)
        url = cleanup.enter_context(serve_in_thread(stack.app))
        yield RunningMock(url, stack, contracts)
