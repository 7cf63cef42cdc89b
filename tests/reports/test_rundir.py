"""Run directories: names, the four files, the ``latest`` pointer and the secret check."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports import rundir
from reports.rundir import SecretLeak, new_run_dir, scan_for_secrets, write_all
from suites.record import load_record
from tests.reports.sample import broken_record, clean_record

PLANTED = "sk-relaykit-planted-0123456789abcdef"
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_names_timestamps_and_duplicates(tmp_path: Path) -> None:
    assert new_run_dir(tmp_path, "nightly", WHEN) == tmp_path / "nightly"
    assert new_run_dir(tmp_path, "nightly", WHEN) == tmp_path / "nightly-2"
    assert new_run_dir(tmp_path, None, WHEN) == tmp_path / "20250102-030405"
    assert new_run_dir(tmp_path, None, WHEN) == tmp_path / "20250102-030405-2"
    assert all(p.is_dir() for p in tmp_path.iterdir())


def test_names_stay_inside_the_root_and_off_latest(tmp_path: Path) -> None:
    assert new_run_dir(tmp_path, "../../etc/x y", WHEN) == tmp_path / "etc-x-y"
    assert new_run_dir(tmp_path, "..", WHEN) == tmp_path / "20250102-030405"
    assert new_run_dir(tmp_path, "latest", WHEN) == tmp_path / "latest-2"


def test_write_all_writes_four_files_and_points_latest(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "clean", WHEN)
    written = write_all(clean_record(), first)
    assert sorted(p.name for p in first.iterdir()) == [
        "junit.xml",
        "record.json",
        "report.html",
        "summary.md",
    ]
    assert set(written) == {"record", "junit", "html", "markdown", "latest"}
    assert load_record(first / "record.json").verdicts() == clean_record().verdicts()
    latest = tmp_path / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "clean"
    second = new_run_dir(tmp_path, "broken", WHEN)
    write_all(broken_record(), second)
    assert os.readlink(latest) == "broken"
    assert rundir.resolve_record(latest) == latest / "record.json"
    assert rundir.load(latest).run["name"] == "broken"


def test_latest_falls_back_to_a_file_without_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_symlinks(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError("symlinks not supported here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    run_dir = new_run_dir(tmp_path, "one", WHEN)
    write_all(broken_record(), run_dir)
    latest = tmp_path / "latest"
    assert not latest.is_symlink() and latest.read_text("utf-8") == "one\n"
    assert rundir.resolve_record(latest) == run_dir / "record.json"


def test_render_without_moving_latest(tmp_path: Path) -> None:
    write_all(clean_record(), tmp_path / "a")
    write_all(broken_record(), tmp_path / "b", update_latest=False)
    assert os.readlink(tmp_path / "latest") == "a"


def test_resolve_rejects_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such run record"):
        rundir.resolve_record(tmp_path)
    (tmp_path / "latest").write_text("../elsewhere\n", "utf-8")
    with pytest.raises(ValueError, match="not a run pointer"):
        rundir.resolve_record(tmp_path / "latest")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}', "utf-8")
    with pytest.raises(ValueError, match=r"bad\.json"):
        rundir.load(bad)


def test_masked_run_has_no_key_in_any_file(tmp_path: Path) -> None:
    run_dir = new_run_dir(tmp_path, None, WHEN)
    write_all(broken_record(), run_dir, secrets=[PLANTED])
    assert scan_for_secrets([tmp_path], [PLANTED]) == []


def test_a_planted_key_refuses_the_write(tmp_path: Path) -> None:
    record = broken_record()
    record.findings[1].response = {"status": 200, "headers": {}, "excerpt": f"echo {PLANTED}"}
    run_dir = tmp_path / "run"
    with pytest.raises(SecretLeak, match="nothing written") as caught:
        write_all(record, run_dir, secrets=[PLANTED, None, ""])
    assert PLANTED not in str(caught.value)
    assert not run_dir.exists() and not (tmp_path / "latest").exists()


def test_an_escaped_key_is_still_found(tmp_path: Path) -> None:
    key = 'k3y&"<tail>'
    record = broken_record()
    record.findings[0].message = f"saw {key}"
    # record.json would hold it as k3y&\"<tail>: found in its JSON spelling.
    with pytest.raises(SecretLeak):
        write_all(record, tmp_path / "run", secrets=[key])


def test_scan_names_each_file_and_secret(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(f"Authorization: Bearer {PLANTED}", "utf-8")
    (tmp_path / "b.txt").write_text("abc: too short to count", "utf-8")
    (tmp_path / "c.html").write_text("x&amp;y-secret", "utf-8")
    hits = scan_for_secrets([tmp_path], [PLANTED, "x&y-secret", "abc"])
    assert hits == [
        (tmp_path / "c.html", "x&y-secret"),
        (tmp_path / "sub" / "a.txt", PLANTED),
    ]
