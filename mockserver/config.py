"""Settings of one mock server: keys, limits and stream pacing."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MockConfig:
    """What `relaykit serve` lets a user set. Times are in seconds."""

    api_keys: frozenset[str] = field(default_factory=frozenset)
    """Accepted keys; empty means any non-empty key is accepted."""
    max_body_bytes: int = 8 * 1024 * 1024
    """Larger request bodies get a 413 in the provider's envelope."""
    ttfe: float = 0.05
    """Delay before the first event of a stream."""
    interval: float = 0.01
    """Delay between two events of a stream."""
    max_events: int = 10_000
    """A stream never writes more events than this."""
    path_map: tuple[tuple[str, str], ...] = ()
    """(contract prefix, relay prefix) pairs: serve the contract's paths under the relay's."""
    state_dir: str = ""
    """Where the SQLite store shared by worker processes lives (mockserver/state/); a fresh
    temporary directory when empty."""
    state_url: str = ""
    """A Redis URL (``redis://host:port/db``): keep the state there instead, shared by every
    mock process that names it."""
    journal: int = 1000
    """Exchanges the request journal keeps (``GET /_relaykit/requests``); 0 turns it off."""
    workers: int = 1
    """Worker processes serving this mock, each with this config (`relaykit serve --workers`):
    with more than one, the journal is kept in the state store, where a reader asks every
    worker for its entries (mockserver/journal_log.py)."""
    task_speed: float = 1.0
    """How fast async tasks move along their timelines (2.0: twice as fast)."""
    bare_paths: bool = True
    """Also serve /v1/... paths without /v1 (seed 004 documents /chat/completions)."""
    faults_file: str = ""
    """A YAML file of fault rules (mockserver/faults.py); none when empty."""
    replay_dir: str = ""
    """Answer from the cassettes in this directory first (mockserver/replay.py)."""
    replay_timing: bool = False
    """Replay streams with their recorded event timing."""
    callbacks: bool = True
    """POST task callbacks to the URLs submits name. ``relaykit check``'s embedded mock turns
    them off: its requests are documented examples and generated bodies, whose hook URLs
    belong to nobody."""
