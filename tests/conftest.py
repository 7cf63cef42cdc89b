"""Shared fixtures: the shipped contracts and mock servers on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from contracts.loader import default_contracts
from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
"""Facts the tests compare against, copied into the repository with their provenance."""
GOOD_KEY = "sk-relaykit-test-good"


@pytest.fixture(scope="session")
def contracts() -> ContractSet:
    """The contracts shipped with relaykit."""
    return default_contracts()


@pytest.fixture(scope="session")
def mock_url(contracts: ContractSet) -> Iterator[str]:
    """A mock that accepts any key and streams without pacing."""
    with serve_in_thread(create_app(contracts, MockConfig(ttfe=0, interval=0))) as url:
        yield url


@pytest.fixture(scope="session")
def keyed_mock_url(contracts: ContractSet) -> Iterator[str]:
    """A mock that accepts only GOOD_KEY."""
    config = MockConfig(api_keys=frozenset({GOOD_KEY}), ttfe=0, interval=0)
    with serve_in_thread(create_app(contracts, config)) as url:
        yield url


@pytest.fixture()
def client(mock_url: str) -> openai.OpenAI:
    """The official openai SDK, strict response validation on, pointed at the mock."""
    return openai.OpenAI(
        base_url=f"{mock_url}/v1",
        api_key="sk-anything",
        _strict_response_validation=True,
        max_retries=0,
    )
