"""One run front-end for ``relaykit check`` and the pytest plugin.

Both start a run the same way and end it the same way: the target (a profile, and a relay URL
or the embedded mock), the key rules (a real relay is never checked without its key; the
embedded mock gets a fresh one), discovery before anything is spent, the record's ``run``
block, and the run directory written through ``reports`` with the key as the secret that must
not appear in it. What differs is only how the checks are driven (a thread pool here, pytest
items there) and how problems are shown (click's errors, pytest's): the functions below raise
``TargetError`` or ``NotWritten`` and the two callers say it their own way.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contracts.model import ContractSet, Operation
from suites.discovery import Discovery
from suites.profile import Budget, Limits, Profile, ProfileError, load_profile
from suites.record import RunRecord
from suites.score import documented_counts

EMBEDDED = "embedded mock"
EMBEDDED_LIMITS = Limits(
    rps=0, timeout=30, retries=1, stream_seconds=30, stream_stall=10, task_seconds=60,
    poll_interval=0.05, concurrency=4,
)  # fmt: skip
"""The embedded mock is local and free: no rate limit, fast polls, four operations at once."""
EMBEDDED_BUDGET = Budget(requests=100_000, tokens=10_000_000, paid_media_calls=100_000)
EMBEDDED_TASK_SPEED = 20.0
"""Task timelines of up to 10 s finish in half a second."""


class TargetError(ValueError):
    """The run cannot start: a bad profile, or a relay without its key (one line, no trace)."""


class NotWritten(Exception):
    """The run could not be written safely (a secret would have been published)."""


def load_target(profile_path: str | None, base_url: str | None) -> tuple[Profile, str | None]:
    """The profile (from the file, or defaults) and the relay URL (None: the embedded mock,
    with limits and a budget fit for a local, free server)."""
    try:
        profile = load_profile(Path(profile_path)) if profile_path else Profile()
    except ProfileError as exc:
        raise TargetError(str(exc)) from None
    url = base_url or profile.base_url
    if url is None and not profile_path:
        profile = dataclasses.replace(
            profile, name=EMBEDDED, limits=EMBEDDED_LIMITS, budget=EMBEDDED_BUDGET
        )
    return profile, url


def run_key(profile: Profile, url: str | None, sending: bool = True) -> str | None:
    """The key the run presents: the profile's variable for a relay (TargetError when it is
    unset and the run sends anything), the same or a fresh one for the embedded mock."""
    key = profile.api_key()
    if url is None:
        return key or f"sk-relaykit-embedded-{secrets.token_hex(8)}"
    if key is None and sending:
        raise TargetError(f"set the relay's key in ${profile.key_env} (never on the command line)")
    return key


@contextmanager
def target_url(contracts: ContractSet, url: str | None, key: str | None) -> Iterator[str]:
    """The relay URL, or the embedded mock started on a free loopback port for the block."""
    if url is not None:
        yield url
        return
    from mockserver import MockConfig, create_app
    from mockserver.background import serve_in_thread

    config = MockConfig(
        api_keys=frozenset({key or ""}), ttfe=0.005, interval=0.01,
        task_speed=EMBEDDED_TASK_SPEED, callbacks=False,
    )  # fmt: skip
    with serve_in_thread(create_app(contracts, config)) as mock_url:
        yield mock_url


def discover(
    contracts: ContractSet,
    profile: Profile,
    url: str,
    key: str | None,
    scope: Iterable[Operation],
) -> Discovery:
    """Ask the relay what it offers (free requests, charged to the run's budget by the plan)."""
    from suites.discovery import discover as ask
    from suites.transport import Transport

    transport = Transport(url, key, profile.limits, profile.budget, profile.path_map)
    try:
        return ask(contracts, scope, transport)
    finally:
        transport.close()


def run_block(
    url: str | None,
    name: str | None,
    only: Iterable[str],
    property_examples: int,
    scope: Iterable[Operation],
    runner: str,
) -> dict[str, Any]:
    """What the front-end adds to the record's ``run`` block (the engine adds times, target,
    profile and seed)."""
    return {
        "name": name,
        "target": EMBEDDED if url is None else "relay",
        "runner": runner,
        "only": list(only),
        "property_examples": property_examples,
        "documented": documented_counts(op.family for op in scope),
    }


def write_run(record: RunRecord, root: Path, name: str | None, key: str | None) -> Path:
    """Write the run directory (record, JUnit, HTML, Markdown); the record's path. NotWritten
    when redaction missed the key somewhere: nothing is published then."""
    from reports.rundir import SecretLeak, new_run_dir, write_all

    try:
        files = write_all(record, new_run_dir(root, name), secrets=[key] if key else [])
    except SecretLeak as exc:
        raise NotWritten(f"the run was not written: {exc}") from None
    return files["record"]
