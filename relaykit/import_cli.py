"""``relaykit contracts import``: an OpenAPI, Swagger, Apifox or Postman document as contracts."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from contracts.importer import write
from contracts.importer.errors import SourceError
from contracts.importer.run import import_document
from contracts.importer.sources import FORMATS
from relaykit.options import contract_set


@click.command("import")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for the contracts (one YAML per operation), LINT.md and lint.json.",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", *FORMATS]),
    help="The document's format (auto: recognised from its keys).",
)
@click.option(
    "--keep-shipped",
    is_flag=True,
    help="Where an operation matches a shipped contract, write the shipped one instead.",
)
@click.option("--quiet", is_flag=True, help="Print the summary only, not every finding.")
def import_command(source: str, output: str, fmt: str, keep_shipped: bool, quiet: bool) -> None:
    """Import SOURCE as contracts in OUTPUT, with a lint of the document's mistakes.

    \b
    Then:  relaykit serve --contracts OUTPUT
           relaykit check --contracts OUTPUT --base-url https://relay.example
    """
    started = time.perf_counter()
    try:
        result = import_document(
            Path(source), Path(output), contract_set(()), fmt, keep_shipped=keep_shipped
        )
    except SourceError as exc:
        click.echo(f"relaykit: {exc}", err=True)
        sys.exit(2)
    doc = result.document
    if not quiet:
        for line in write.lint_text(result.findings, result.origin):
            click.echo(line)
    errors = sum(1 for f in result.findings if f.severity == "error")
    matched = len(result.matches)
    shipped = (
        f"{len(result.kept_shipped)} shipped contracts kept in their place"
        if keep_shipped
        else f"{matched} match shipped contracts (--keep-shipped writes those instead)"
    )
    click.echo(
        f"imported {doc.format} {doc.version} {source}: {len(doc.drafts)} operations, "
        f"{len(result.written)} contracts in {output}; {shipped}; "
        f"lint: {len(result.findings)} findings, {errors} errors "
        f"(see {Path(output) / write.LINT_MD}); {time.perf_counter() - started:.1f} s",
        err=True,
    )
