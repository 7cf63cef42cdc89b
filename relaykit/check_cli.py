"""`relaykit check`: plan, run and record a conformance run against a relay or the embedded mock."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from contracts.model import ContractSet
from relaykit import runs
from relaykit.console import print_discovery, print_plan, print_summary, progress_line
from relaykit.options import contract_set, contracts_option, warn_shadowed
from suites.findings import Finding, Outcome
from suites.plan import make_plan, selected
from suites.record import RunRecord

FAIL_ON = {o.value: o for o in Outcome if o is not Outcome.PASS}


@click.command("check")
@click.option(
    "--base-url", help="The relay to check (default: the profile's, else the embedded mock)."
)
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Target profile (YAML): key variable, models, path map, families, budget, limits.",
)
@click.option("--only", multiple=True, help="Only this family or operation id (repeatable).")
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed of the property-based requests."
)
@click.option(
    "--property-examples",
    default=3,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Property-based requests per operation.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and its cost; send nothing.")
@click.option(
    "--report-dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Write the run to DIR/<name or timestamp>/ and point DIR/latest at it.",
)
@click.option("--name", "run_name", help="Name of the run's directory (default: a UTC timestamp).")
@click.option(
    "--fail-on",
    multiple=True,
    type=click.Choice(sorted(FAIL_ON)),
    help="Outcomes that make the exit code 1 (default: fail and error; repeatable).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Failures of deviates checks fail the run too (default: only breaks-clients ones).",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True),
    help="A previous run (record.json or its directory): print what changed.",
)
@click.option(
    "--discovery/--no-discovery",
    default=True,
    show_default=True,
    help="First ask the relay, for free, which models and routes it offers (a dry run with "
    "--no-discovery sends nothing at all).",
)
@contracts_option
def check(
    base_url: str | None,
    profile_path: str | None,
    only: tuple[str, ...],
    seed: int,
    property_examples: int,
    dry_run: bool,
    report_dir: str,
    run_name: str | None,
    fail_on: tuple[str, ...],
    strict: bool,
    baseline: str | None,
    discovery: bool,
    contract_dirs: tuple[str, ...],
) -> None:
    """Check a relay against the contracts; without --base-url, check the embedded mock.

    The key is read from RELAYKIT_API_KEY (or the variable the profile names), never from
    the command line. Exit code 1 when a breaks-clients check failed (any check with --strict)
    or a check errored (see --fail-on), 0 otherwise.
    """
    contracts = contract_set(contract_dirs)
    try:
        profile, url = runs.load_target(profile_path, base_url)
        key = runs.run_key(profile, url, sending=not dry_run)
    except runs.TargetError as exc:
        raise click.UsageError(str(exc)) from None
    warn_shadowed(profile.path_map, contracts)
    before = _load_baseline(baseline)
    unknown = [w for w in only if w not in contracts.families() and w not in _ids(contracts)]
    if unknown:
        raise click.BadParameter(
            f"no family or operation {', '.join(unknown)}", param_hint="--only"
        )
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    target = url or "the embedded mock"
    scope = selected(contracts, profile, only)
    learned = None
    if url is not None and discovery:
        learned = runs.discover(contracts, profile, url, key, scope)
        print_discovery(console, learned)
    plan = make_plan(contracts, profile, only, property_examples, learned)
    if dry_run:
        print_plan(console, plan, target)
        return
    total = len(scope)
    done = 0

    def progress(op: object, found: list[Finding]) -> None:
        nonlocal done
        done += 1
        progress_line(console, done, total, op, found)  # type: ignore[arg-type]

    console.print(
        f"Checking {total} operations of {target} ({plan.totals()['requests']} requests planned)"
    )
    from suites.runner import run

    with runs.target_url(contracts, url, key) as live:
        record = run(
            contracts, profile, plan, live, key, seed=seed, property_examples=property_examples,
            progress=progress,
            run_info=runs.run_block(url, run_name, only, property_examples, scope, "check"),
        )  # fmt: skip
    print_summary(console, record, strict)
    if record.run.get("stopped"):
        console.print(f"Stopped early ({record.run['stopped']}): the rest was skipped")
    try:
        written = runs.write_run(record, Path(report_dir), run_name, key)
    except runs.NotWritten as exc:  # redaction missed a spot: refuse to publish, say so plainly
        raise NotWritten(str(exc)) from None
    console.print(
        f"Reports in {written.parent}/: record.json (the run record), junit.xml, "
        "report.html, summary.md"
    )
    if before is not None:  # a baseline gates on what got worse, not on what already failed
        sys.exit(1 if _print_changes(console, before, record) else 0)
    outcomes = frozenset(FAIL_ON[o] for o in fail_on) or frozenset({Outcome.FAIL, Outcome.ERROR})
    sys.exit(1 if record.failed(outcomes, strict) else 0)


class NotWritten(click.ClickException):
    """The run could not be written safely (exit code 2, like other unusable input)."""

    exit_code = 2


def _ids(contracts: ContractSet) -> set[str]:
    return {op.id for op in contracts}


def _load_baseline(path: str | None) -> RunRecord | None:
    """The baseline run, read before anything is sent (a bad file must not waste a run)."""
    if path is None:
        return None
    from reports.diff import load_any

    try:
        return load_any(Path(path))
    except ValueError as exc:
        raise click.UsageError(f"--baseline: {exc}") from None


def _print_changes(console: Console, before: RunRecord, record: RunRecord) -> bool:
    """Print what changed since the baseline run; True when there are new failures."""
    from reports.diff import diff, render_text

    changes = diff(before, record)
    console.print(render_text(changes))
    return changes.has_regressions
