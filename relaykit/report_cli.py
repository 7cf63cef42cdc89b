"""``relaykit report``: diff two runs (the CI gate) and re-render a run's files from its record."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reports import rundir
from reports.diff import RENDERERS, diff
from suites.record import RunRecord

EXIT_REGRESSED = 1
EXIT_BAD_INPUT = 2


def _load(path: str) -> RunRecord:
    try:
        return rundir.load(Path(path))
    except ValueError as exc:
        click.echo(f"relaykit report: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def report() -> None:
    """Regression reports from run records: diffs and re-rendering."""


@report.command("diff")
@click.argument("baseline", type=click.Path())
@click.argument("current", type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="How to print the diff.",
)
@click.option(
    "--latency-threshold",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Fractional growth of p50/p95 latency that counts as a regression (0.5 = +50%).",
)
@click.option(
    "--min-latency-ms",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="Smaller growth than this (in ms) is never a latency regression.",
)
def diff_command(
    baseline: str, current: str, fmt: str, latency_threshold: float, min_latency_ms: float
) -> None:
    """Compare CURRENT to BASELINE (record.json files or run dirs); exit 1 on new failures."""
    result = diff(_load(baseline), _load(current), latency_threshold, min_latency_ms)
    click.echo(RENDERERS[fmt](result), nl=False)
    sys.exit(EXIT_REGRESSED if result.has_regressions else 0)


@report.command("render")
@click.argument("record", type=click.Path())
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to write into (default: the record's own directory).",
)
@click.option(
    "--key-env",
    "key_envs",
    multiple=True,
    metavar="NAME",
    help="Refuse to write if the key held in this environment variable appears (repeatable).",
)
def render_command(record: str, out: str | None, key_envs: tuple[str, ...]) -> None:
    """Re-render record.json, junit.xml, report.html and summary.md from RECORD."""
    loaded = _load(record)
    target = Path(out) if out else rundir.resolve_record(Path(record)).parent
    secrets = [os.environ.get(name) for name in key_envs]
    try:
        written = rundir.write_all(loaded, target, secrets, update_latest=False)
    except rundir.SecretLeak as exc:
        click.echo(f"relaykit report: refused: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except OSError as exc:
        click.echo(f"relaykit report: cannot write {target}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for kind, file in written.items():
        click.echo(f"{kind}: {file}")
