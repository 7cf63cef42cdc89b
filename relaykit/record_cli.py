"""``relaykit record``: put the recording proxy in front of a relay."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from relaykit.options import host_option, log_level_option, port_option, upstream_option


@click.command()
@upstream_option("The relay to record, e.g. https://relay.example.")
@host_option()
@port_option(8081)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, writable=True),
    help="Directory the cassettes go to (one JSON file per exchange).",
)
@log_level_option
def record(upstream: str, host: str, port: int, out_dir: str, log_level: str) -> None:
    """Forward requests to a relay and record each exchange as a cassette, keys redacted."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(name)s: %(message)s")

    from relaykit.recorder import Recorder

    app = Recorder(upstream, Path(out_dir))
    click.echo(
        f"relaykit record: http://{host}:{port} -> {upstream}, cassettes in {out_dir}. "
        "Ctrl+C stops it."
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
