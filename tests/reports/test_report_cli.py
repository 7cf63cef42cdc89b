"""``relaykit report``: diff exit codes (the CI gate), readable errors, re-rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from relaykit.report_cli import report
from reports.rundir import new_run_dir, write_all
from tests.reports.sample import broken_record, clean_record


@pytest.fixture()
def runs(tmp_path: Path) -> dict[str, Path]:
    """Two clean runs and a broken one, written as run dirs under tmp_path/runs."""
    root = tmp_path / "runs"
    made = {}
    for name, record in (
        ("clean", clean_record()),
        ("clean2", clean_record()),
        ("broken", broken_record()),
    ):
        run_dir = new_run_dir(root, name)
        write_all(record, run_dir)
        made[name] = run_dir
    return made


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(report, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_clean_vs_clean_exits_zero(runs: dict[str, Path]) -> None:
    code, out, _ = _invoke("diff", str(runs["clean"] / "record.json"), str(runs["clean2"]))
    assert code == 0
    assert "nothing new" in out


def test_new_failures_exit_one_and_are_named(runs: dict[str, Path]) -> None:
    code, out, _ = _invoke("diff", str(runs["clean"]), str(runs["broken"].parent / "latest"))
    assert code == 1
    lines = out.splitlines()
    start = lines.index("new failures (3):") + 1
    section = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        section.append(line.split()[3:5])
    assert sorted(section) == [
        ["chat.create", "negative.malformed_json:"],
        ["chat.create", "response.schema:"],
        ["chat.stream", "sse.terminator:"],
    ]


def test_fixes_exit_zero(runs: dict[str, Path]) -> None:
    code, out, _ = _invoke("diff", str(runs["broken"]), str(runs["clean"]))
    assert code == 0 and "fixed (3):" in out


def test_json_and_markdown_formats(runs: dict[str, Path]) -> None:
    code, out, _ = _invoke("diff", "--format", "json", str(runs["clean"]), str(runs["broken"]))
    assert code == 1
    assert json.loads(out)["has_regressions"] is True
    code, out, _ = _invoke("diff", "--format", "markdown", str(runs["clean"]), str(runs["broken"]))
    assert code == 1 and out.startswith("## relaykit diff: clean → broken")


def test_latency_threshold_option(runs: dict[str, Path], tmp_path: Path) -> None:
    slow = clean_record()
    slow.operations["chat.create"].latency = [0.3, 0.4, 0.3, 0.2]
    write_all(slow, tmp_path / "slow", update_latest=False)
    code, out, _ = _invoke("diff", str(runs["clean"]), str(tmp_path / "slow"))
    assert code == 0 and "latency regressions (1" in out
    code, out, _ = _invoke(
        "diff", "--latency-threshold", "5", str(runs["clean"]), str(tmp_path / "slow")
    )
    assert code == 0 and "nothing new" in out


def test_unreadable_input_exits_two_with_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", "utf-8")
    for bad in (tmp_path / "missing", garbage):
        code, out, err = _invoke("diff", str(bad), str(runs["clean"]))
        assert code == 2 and out == ""
        assert err.startswith("relaykit report: ") and len(err.strip().splitlines()) == 1


def test_render_rewrites_the_four_files(runs: dict[str, Path], tmp_path: Path) -> None:
    out_dir = tmp_path / "again"
    code, out, _ = _invoke("render", str(runs["broken"] / "record.json"), "--out", str(out_dir))
    assert code == 0, out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "junit.xml",
        "record.json",
        "report.html",
        "summary.md",
    ]
    assert (out_dir / "summary.md").read_text("utf-8") == (runs["broken"] / "summary.md").read_text(
        "utf-8"
    )
    (runs["clean"] / "report.html").unlink()
    code, _, _ = _invoke("render", str(runs["clean"]))
    assert code == 0 and (runs["clean"] / "report.html").is_file()


def test_render_refuses_a_planted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-relaykit-planted-0123456789abcdef"
    record = broken_record()
    record.findings[0].message = f"echoed {key}"
    record.write(tmp_path / "leaky.json")
    monkeypatch.setenv("RELAYKIT_TEST_KEY", key)
    code, out, err = _invoke(
        "render",
        str(tmp_path / "leaky.json"),
        "--out",
        str(tmp_path / "out"),
        "--key-env",
        "RELAYKIT_TEST_KEY",
    )
    assert code == 2 and "refused" in err and key not in err + out
    assert not (tmp_path / "out").exists()
