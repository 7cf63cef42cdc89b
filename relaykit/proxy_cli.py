"""``relaykit proxy``: watch live traffic to a relay against the contracts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from relaykit.options import (
    contract_set,
    contracts_option,
    host_option,
    log_level_option,
    path_map_option,
    port_option,
    upstream_option,
)
from relaykit.options import path_map as parse_path_map


@click.command()
@upstream_option("The relay to forward to, e.g. https://relay.example.")
@host_option()
@port_option(8082)
@click.option(
    "--report-dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False, writable=True),
    help="Where the run record goes (a run directory under it, as `relaykit check` writes).",
)
@click.option("--name", help="The run directory's name (default: a UTC timestamp).")
@click.option(
    "--every",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Also write the run record every N exchanges (0: only on shutdown).",
)
@path_map_option
@log_level_option
@contracts_option
def proxy(
    upstream: str,
    host: str,
    port: int,
    report_dir: str,
    name: str | None,
    every: int,
    path_map: tuple[str, ...],
    log_level: str,
    contract_dirs: tuple[str, ...],
) -> None:
    """Forward requests to a relay, flagging every answer that breaks the contracts."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(name)s: %(message)s")

    from relaykit.proxy import ProxyApp

    app = ProxyApp(
        upstream,
        contract_set(contract_dirs),
        report_dir=Path(report_dir),
        name=name,
        every=every,
        path_map=parse_path_map(path_map),
    )
    click.echo(
        f"relaykit proxy: http://{host}:{port} -> {upstream}; violations in the "
        f"x-relaykit-violations header and the log, run record under {report_dir}/. "
        "Ctrl+C stops it."
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
    # uvicorn's lifespan shutdown wrote the record; this covers a server run without lifespan
    run_dir = asyncio.run(app.flush())
    if run_dir is not None:
        click.echo(f"run record: {run_dir}")
