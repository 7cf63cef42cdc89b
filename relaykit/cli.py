"""The ``relaykit`` command: thin wrappers over contracts, mockserver, suites and reports."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from relaykit.lazy import LazyGroup
from relaykit.options import (
    contract_set,
    contracts_option,
    host_option,
    log_level_option,
    path_map_option,
    port_option,
    warn_shadowed,
)
from relaykit.options import path_map as parse_path_map


@click.group(
    cls=LazyGroup,
    lazy={
        "check": "relaykit.check_cli:check",
        "report": "relaykit.report_cli:report",
        "record": "relaykit.record_cli:record",
        "proxy": "relaykit.proxy_cli:proxy",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="relaykit")
def main() -> None:
    """Contract tests, a living mock and conformance reports for OpenAI-compatible relays."""


@main.command()
@host_option()
@port_option(8080)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    help="Accept only this key (repeatable). Without it, any non-empty key is accepted.",
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes."
)
@click.option(
    "--ttfe-ms",
    default=50.0,
    show_default=True,
    type=click.FloatRange(0, 60000),
    help="Delay before a stream's first event.",
)
@click.option(
    "--interval-ms",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, 60000),
    help="Delay between stream events.",
)
@click.option(
    "--max-body-bytes",
    default=8 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Larger request bodies get a 413.",
)
@path_map_option
@click.option(
    "--task-speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 1000),
    help="How fast async tasks progress (2 = twice as fast).",
)
@log_level_option
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML fault rules (latency, errors, cut streams...) by operation or path.",
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Answer from the cassettes `relaykit record` wrote; the contracts answer the rest.",
)
@click.option("--replay-timing", is_flag=True, help="Replay streams with their recorded timing.")
@click.option(
    "--access-log", is_flag=True, help="Log every request (off by default: it costs per request)."
)
@click.option(
    "--state-url",
    envvar="RELAYKIT_STATE_URL",
    default="",
    metavar="URL",
    help="Keep tasks, stored facts and the journal in Redis (redis://host:port/db), shared by "
    "every mock naming it; default: SQLite in a state directory of this server's own.",
)
@click.option(
    "--journal",
    "journal",
    default=1000,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    metavar="N",
    help="Keep the last N exchanges for GET /_relaykit/requests (0 turns the journal off).",
)
@contracts_option
def serve(
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    workers: int,
    ttfe_ms: float,
    interval_ms: float,
    max_body_bytes: int,
    path_map: tuple[str, ...],
    task_speed: float,
    log_level: str,
    faults_file: str | None,
    replay_dir: str | None,
    replay_timing: bool,
    access_log: bool,
    state_url: str,
    journal: int,
    contract_dirs: tuple[str, ...],
) -> None:
    """Serve every contract as a mock relay (binds 127.0.0.1 by default).

    Faults, per request in the Prefer header, or per server with --faults RULES.yaml (a list
    of rules matching operation ids, path globs and methods, with an optional seeded
    probability; the header wins):

    \b
      latency-ms=200, jitter-ms=50             wait before the response
      fault=pace, ttfe-ms=300, interval-ms=40  time each stream event (jitter-ms too)
      fault=429, retry-after=2                 also 500, 502, 503, 524, in the envelope
      fault=cut, after=3                       close a stream after 3 events, unfinished
      fault=malformed, at=2                    the 2nd event's data is invalid JSON
      fault=empty | reset | none               empty 200, TCP reset, no fault
      fault=drip, drip-bytes=16, drip-ms=20    the body a few bytes at a time
    """
    import uvicorn

    from mockserver.asgi import ENV_VAR, dump_config
    from mockserver.config import MockConfig
    from mockserver.http_stack import server_stack

    contracts = contract_set(contract_dirs)
    warn_shadowed(parse_path_map(path_map), contracts)
    if faults_file:  # refuse a bad rules file here, not in every worker after uvicorn starts
        from mockserver.fault_rules import FaultRulesError, load_fault_rules

        try:
            load_fault_rules(Path(faults_file), contracts)
        except FaultRulesError as exc:
            click.echo(f"Error: --faults: {exc}", err=True)
            sys.exit(2)
    config = MockConfig(
        api_keys=frozenset(api_keys),
        ttfe=ttfe_ms / 1000,
        interval=interval_ms / 1000,
        max_body_bytes=max_body_bytes,
        task_speed=task_speed,
        path_map=parse_path_map(path_map).pairs,
        faults_file=str(Path(faults_file).resolve()) if faults_file else "",
        replay_dir=str(Path(replay_dir).resolve()) if replay_dir else "",
        replay_timing=replay_timing,
        state_url=state_url,
        journal=journal,
        workers=workers,
    )
    if not config.state_dir:  # one directory for all workers, made before they start
        config = dataclasses.replace(config, state_dir=tempfile.mkdtemp(prefix="relaykit-mock-"))
    from mockserver.state import StateUrlError, open_store

    try:  # refuse a store that cannot be used here, not in every worker
        store = open_store(config.state_url, config.state_dir)
        store.check()
        store.close()
    except StateUrlError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    os.environ[ENV_VAR] = dump_config(config, list(contract_dirs))
    keys = f"{len(api_keys)} configured key(s)" if api_keys else "any non-empty key"
    loop, http = server_stack()
    journal_note = f"journal of {journal}" if journal else "no journal"
    click.echo(
        f"relaykit mock: {len(contracts)} operations on http://{host}:{port} "
        f"(accepts {keys}; {workers} worker(s); {loop}, {http}; state in {store.where}; "
        f"{journal_note}). Ctrl+C stops it."
    )
    if workers == 1:  # serve from this process, with the contracts already loaded
        from mockserver.stack import serving_app

        app: Any = serving_app(contracts, config)
        factory = False
    else:  # each worker builds the app from the environment (mockserver/asgi.py)
        app, factory = "mockserver.asgi:app_from_env", True
    uvicorn.run(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        loop=loop,
        http=http,
    )


@main.group()
def export() -> None:
    """Export the contracts in other formats."""


@export.command("openapi")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write here instead of standard output.",
)
@click.option("--server-url", help="Add this URL as the document's server.")
@contracts_option
def export_openapi(
    output: str | None, server_url: str | None, contract_dirs: tuple[str, ...]
) -> None:
    """Write the OpenAPI 3.1 document compiled from the contracts (JSON)."""
    from contracts.openapi import to_openapi

    doc = to_openapi(contract_set(contract_dirs), server_url=server_url)
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}: {len(doc['paths'])} paths", err=True)
    else:
        click.echo(text)


@main.group("contracts", cls=LazyGroup, lazy={"import": "relaykit.import_cli:import_command"})
def contracts_group() -> None:
    """Inspect, check and import contracts."""


@contracts_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--family", multiple=True, help="Only these families (repeatable).")
@contracts_option
def contracts_list(as_json: bool, family: tuple[str, ...], contract_dirs: tuple[str, ...]) -> None:
    """List the operations: id, family, method, path and provenance."""
    ops = [op for op in contract_set(contract_dirs) if not family or op.family in family]
    if as_json:
        rows = [
            {
                "id": op.id,
                "family": op.family,
                "method": op.method,
                "path": op.path,
                "streams": op.stream.when if op.stream else None,
                "seeds": [
                    {"file": s.file, "line": s.line, "title": s.title} for s in op.provenance.seeds
                ],
                "path_source": op.provenance.path_source,
                "path_confidence": op.provenance.path_confidence,
                "not_enabled": op.provenance.not_enabled,
                "source": op.provenance.source or None,
            }
            for op in ops
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    width = max((len(op.id) for op in ops), default=2)
    for op in ops:
        prov = op.provenance
        titles = "; ".join(dict.fromkeys(s.title for s in prov.seeds)) or (
            f"(beyond the seeds: {prov.source})" if prov.beyond_seeds else "(implied)"
        )
        seeds = ",".join(dict.fromkeys(s.file[:3] for s in op.provenance.seeds)) or "-"
        click.echo(f"{op.id:<{width}}  {op.method:<6} {op.path:<34} seeds {seeds:<15} {titles}")
    click.echo(f"{len(ops)} operations", err=True)


@contracts_group.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--catalogue",
    type=click.Path(exists=True, dir_okay=False),
    help="The catalogue of documented operations (default: contracts/catalog, shipped).",
)
@contracts_option
def contracts_coverage(
    as_json: bool, catalogue: str | None, contract_dirs: tuple[str, ...]
) -> None:
    """Per seed: documented operations, which have a contract, which the mock serves."""
    from contracts.coverage import DEFAULT_CATALOGUE, coverage, format_table, to_json
    from mockserver.app import MockRelay
    from mockserver.config import MockConfig

    cs = contract_set(contract_dirs)
    relay = MockRelay(cs, MockConfig())
    try:
        cov = coverage(cs, Path(catalogue) if catalogue else DEFAULT_CATALOGUE, serves=relay.serves)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        json.dumps(to_json(cov), ensure_ascii=False, indent=2) if as_json else format_table(cov)
    )
    sys.exit(0 if cov.complete else 1)


@contracts_group.command("check")
@contracts_option
def contracts_check(contract_dirs: tuple[str, ...]) -> None:
    """Load and validate every contract; exit 2 listing each problem."""
    cs = contract_set(contract_dirs)
    click.echo(
        f"ok: {len(cs)} operations in {len(cs.families())} families, "
        f"{len(cs.components)} shared schemas"
    )
