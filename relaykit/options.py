"""Options and helpers the commands share: contract loading, --contracts, --path-map."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from contracts.cache import cached_contracts
from contracts.model import ContractSet
from contracts.paths import PrefixMap, shadowed

F = TypeVar("F", bound=Callable[..., Any])


def contract_set(dirs: tuple[str, ...]) -> ContractSet:
    """The shipped contracts, or those in ``dirs`` (through the contract cache, which loads
    them when any file changed); a malformed one exits 2 naming the problems."""
    try:
        return cached_contracts([Path(d) for d in dirs] if dirs else None)
    except Exception as exc:
        from contracts.loader import ContractError  # already imported: the loader raised

        if not isinstance(exc, ContractError):
            raise
        click.echo(f"relaykit: {len(exc.problems)} contract problem(s):", err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        sys.exit(2)


def path_map(specs: tuple[str, ...]) -> PrefixMap:
    """``--path-map`` values parsed; a malformed one is a usage error."""
    try:
        return PrefixMap.parse(specs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--path-map") from None


contracts_option = click.option(
    "--contracts",
    "contract_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="Load contracts from this directory instead of the shipped ones (repeatable).",
)


def warn_shadowed(prefixes: PrefixMap, contracts: ContractSet) -> None:
    """Warn (on stderr) when a path map hides documented paths of another family."""
    hidden = shadowed(prefixes, (op.path for op in contracts))
    if hidden:
        listed = "; ".join(hidden[:3]) + (
            f"; and {len(hidden) - 3} more" if len(hidden) > 3 else ""
        )
        click.echo(
            f"relaykit: warning: the path map hides {len(hidden)} documented path(s): {listed}",
            err=True,
        )


def _http_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http:// or https:// URL")
    return value


def upstream_option(help_text: str) -> Callable[[F], F]:
    """``--upstream URL`` (required, http or https) for the servers that forward to a relay."""
    return click.option("--upstream", required=True, callback=_http_url, help=help_text)


def host_option() -> Callable[[F], F]:
    """``--host`` (loopback by default)."""
    return click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")


def port_option(default: int) -> Callable[[F], F]:
    """``--port`` with this command's default."""
    return click.option(
        "--port", default=default, show_default=True, type=int, help="Port to listen on."
    )


log_level_option = click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)

path_map_option = click.option(
    "--path-map",
    "path_map",
    multiple=True,
    metavar="CONTRACT_PREFIX=RELAY_PREFIX",
    help="The relay serves documented paths under its own prefix, e.g. /mj=/midjourney "
    "(repeatable).",
)
