"""``relaykit proxy``: watch live traffic to a relay against the contracts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from relaykit.options import contract_set, contracts_option
from relaykit.options import path_map as parse_path_map


@click.command()
@click.option(
    "--upstream", required=True, help="The relay to forward to, e.g. https://relay.example."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8082, show_default=True, type=int, help="Port to listen on.")
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
@click.option(
    "--path-map",
    "path_map",
    multiple=True,
    metavar="CONTRACT_PREFIX=RELAY_PREFIX",
    help="The relay serves documented paths under its own prefix, e.g. /suno/submit=/suno/v1.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
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

    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http:// or https:// URL", param_hint="--upstream")
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
