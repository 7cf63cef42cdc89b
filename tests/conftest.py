"""Shared fixtures: the shipped contracts and mock servers on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from contracts.cache import CACHE_ENV
from contracts.loader import default_contracts
from contracts.model import ContractSet
from mockserver import MockConfig, create_app
from mockserver.background import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
"""Facts the tests compare against, copied into the repository with their provenance."""
GOOD_KEY = "sk-relaykit-test-good"


@pytest.fixture(scope="session", autouse=True)
def contract_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The contract cache (contracts/cache.py) of this session, for every process it starts:
    tests never read or write the user's cache directory."""
    path = tmp_path_factory.mktemp("relaykit-cache")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(path)
    yield path
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


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
