"""``relaykit record``: put the recording proxy in front of a relay."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command()
@click.option("--upstream", required=True, help="The relay to record, e.g. https://relay.example.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8081, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, writable=True),
    help="Directory the cassettes go to (one JSON file per exchange).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def record(upstream: str, host: str, port: int, out_dir: str, log_level: str) -> None:
    """Forward requests to a relay and record each exchange as a cassette, keys redacted."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(name)s: %(message)s")

    from relaykit.recorder import Recorder

    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http:// or https:// URL", param_hint="--upstream")
    app = Recorder(upstream, Path(out_dir))
    click.echo(
        f"relaykit record: http://{host}:{port} -> {upstream}, cassettes in {out_dir}. "
        "Ctrl+C stops it."
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
