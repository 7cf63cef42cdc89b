"""pytest fixtures for client developers: the relaykit mock inside your own test run.

Installed with the package (entry point ``pytest11: relaykit-mock``), so a test only names the
fixture::

    def test_my_client(relaykit_mock):
        client = openai.OpenAI(base_url=f"{relaykit_mock.url}/v1", api_key="sk-test")
        ...
        assert relaykit_mock.requests(operation="openai.chat.*")[0]["body"]["model"] == ...

``relaykit_mock`` is one mock per session (a thread on a free loopback port; per xdist worker),
its faults, pacing and journal reset before each test. ``@pytest.mark.relaykit_mock(**settings)``
gives a test a mock of its own, started with those ``MockConfig`` settings (``api_keys``,
``task_speed``, ``journal``, ``ttfe``...). Override the ``relaykit_mock_config`` fixture (a
session-scoped ``MockConfig``; streams unpaced by default) or ``relaykit_mock_contracts`` in a
conftest to change every mock. The handle is ``mockserver.running.RunningMock``.

The mock's modules are imported inside the fixtures: this module is loaded by every pytest run
where relaykit is installed, and starts nothing until a test asks for a mock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contracts.model import ContractSet
    from mockserver.config import MockConfig
    from mockserver.running import RunningMock

MARKER = "relaykit_mock"


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): give this test a relaykit mock of its own, started with these "
        "MockConfig settings (api_keys, task_speed, journal, ttfe, interval...)",
    )


@pytest.fixture(scope="session")
def relaykit_mock_config() -> MockConfig:
    """The settings every mock starts with (override in a conftest): streams unpaced."""
    from mockserver.config import MockConfig

    return MockConfig(ttfe=0.0, interval=0.0)


@pytest.fixture(scope="session")
def relaykit_mock_contracts() -> ContractSet:
    """The contracts the mock serves: the shipped ones (override in a conftest)."""
    from contracts.loader import default_contracts

    return default_contracts()


@pytest.fixture(scope="session")
def relaykit_mock_session(
    relaykit_mock_config: MockConfig, relaykit_mock_contracts: ContractSet
) -> Iterator[RunningMock]:
    """The session's mock (``relaykit_mock`` hands it to each test, reset)."""
    from mockserver.running import run_mock

    with run_mock(relaykit_mock_contracts, relaykit_mock_config) as mock:
        yield mock


@pytest.fixture()
def relaykit_mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    """A running mock for this test: the session's, reset, or its own when the test is marked
    ``@pytest.mark.relaykit_mock(**settings)``."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        mock: RunningMock = request.getfixturevalue("relaykit_mock_session")
        mock.reset()
        yield mock
        return
    from mockserver.running import run_mock

    base: MockConfig = request.getfixturevalue("relaykit_mock_config")
    contracts: ContractSet = request.getfixturevalue("relaykit_mock_contracts")
    settings = dict(marker.kwargs)
    if "api_keys" in settings:
        settings["api_keys"] = frozenset(settings["api_keys"])
    try:
        config = dataclasses.replace(base, **settings)
    except TypeError as exc:
        known = ", ".join(f.name for f in dataclasses.fields(base))
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}; settings: {known}", pytrace=False)
    with run_mock(contracts, config) as own:
        yield own
