"""What ``import`` / ``validate`` print around the summary: ``-q`` after the command, the
errors file's path even under ``-q``, warnings ahead of the summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.import_cli import run_cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_csvs"


@pytest.fixture(scope="module")
def url(sandbox_url: str) -> str:
    return sandbox_url


run = run_cli


def sample(tmp: Path, name: str) -> Path:
    return Path(shutil.copy(SAMPLES / name, tmp / name))


@pytest.mark.parametrize("command", ["import", "validate"])
def test_quiet_after_the_command_still_names_the_errors_file(
    url: str, tmp_path: Path, command: str
) -> None:
    path = sample(tmp_path, "with_errors.csv")
    result = run(url, command, "activities", str(path), "--report-dir", str(tmp_path / "r"), "-q")
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = next((tmp_path / "r").glob("*errors.csv"))
    assert result.stderr == f"closecsv: 7 rows failed; fix them in {errors}\n"


def test_quiet_before_the_command_too_and_nothing_when_every_row_passes(
    url: str, tmp_path: Path
) -> None:
    path = sample(tmp_path, "with_errors.csv")
    failed = run(url, "-q", "validate", "activities", str(path))
    assert failed.exit_code == 1 and "7 rows failed; fix them in" in failed.stderr
    clean = sample(tmp_path, "discovery_calls.csv")
    done = run(url, "validate", "activities", str(clean), "--quiet")
    assert done.exit_code == 0
    assert done.stderr == "" and done.stdout == ""


def test_warnings_come_before_the_summary(url: str, tmp_path: Path) -> None:
    path = sample(tmp_path, "discovery_calls.csv")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Nope": "custom.Notes"}), encoding="utf-8")
    result = run(url, "validate", "activities", str(path), "--map", str(mapping))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: --map"))
    summary = next(i for i, line in enumerate(lines) if line.startswith("validate activities:"))
    assert warning < summary
    assert lines[-1].startswith("results")
