"""``closecsv export`` on the command line: exit codes, stdout/stderr, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sb = Sandbox()
    with sb.serve() as base:
        yield base
    sb.close()


def run(url: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["--api-url", url, "--api-key", SANDBOX_API_KEY, "export", *args],
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_export_writes_files_manifest_and_a_summary(url: str, tmp_path: Path) -> None:
    code, out, err = run(url, "activities", "--out-dir", str(tmp_path))
    assert (code, out) == (0, "")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [t["file"] for t in manifest["types"]] == ["Discovery_Call.csv", "Support_Ticket.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Discovery_Call.csv", "Support_Ticket.csv", "manifest.json"
    ]  # fmt: skip
    assert "Discovery_Call.csv: 3 rows (Discovery Call)" in err
    assert "exported 5 activities" in err
    assert SANDBOX_API_KEY not in err + json.dumps(manifest)


def test_existing_files_are_kept_without_force(url: str, tmp_path: Path) -> None:
    (tmp_path / "Deal.csv").write_text("mine")
    code, out, err = run(url, "objects", "--out-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert "Deal.csv already exists" in err and "--force" in err
    assert (tmp_path / "Deal.csv").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Deal.csv"]
    code, _, _ = run(url, "objects", "--out-dir", str(tmp_path), "--force")
    assert code == 0
    assert (tmp_path / "Deal.csv").read_text().startswith("custom_object_id,")


def test_a_symlink_in_the_out_dir_is_refused(url: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").symlink_to(victim)
    code, _, err = run(url, "objects", "--out-dir", str(out), "--force")
    assert code == 2 and "is a symlink" in err
    assert victim.read_text() == "precious"


def test_a_folder_in_the_way_is_not_sent_to_force(url: str, tmp_path: Path) -> None:
    """--force replaces files only: a folder under a file's name is named as such, and the
    hint does not suggest the --force that was just given."""
    (tmp_path / "Deal.csv").mkdir()
    (tmp_path / "Deal.csv" / "mine.txt").write_text("mine")
    code, _, err = run(url, "objects", "--out-dir", str(tmp_path), "--force")
    assert code == 2
    assert f"{tmp_path / 'Deal.csv'} already exists (a directory)" in err
    assert "hint: move or rename that folder (--force replaces files only)" in err
    assert "pass --force" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Deal.csv"]
    assert (tmp_path / "Deal.csv" / "mine.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "03/04/2024"], "--since '03/04/2024' is not an ISO 8601"),
        (["--since", "2024-02-01", "--until", "2024-01-01"], "is not before --until"),
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--lead-query", "{not json"], "--lead-query is not valid JSON"),
        (["--lead-query", "[1]"], "must be one query node"),
        (["--type", "Nope"], "unknown custom activity type 'Nope'"),
        (["--multi-separator", ""], "--multi-separator must not be empty"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(
    url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(
        url, "activities", "--out-dir", str(out), "--since", "2000-01-01", *args
    )
    assert (code, stdout) == (2, "")
    assert message in err
    assert not out.exists() or [p.name for p in out.iterdir()] == []


def test_naive_since_is_read_in_the_timezone(url: str, tmp_path: Path) -> None:
    # the seed's activities are at 09:00, 10:00, 11:00 UTC on 2024-01-04 (Discovery Call)
    args = ["--type", "Discovery Call", "--since", "2024-01-04T11:00", "--timezone", "Europe/Paris"]
    code, _, _ = run(url, "activities", "--out-dir", str(tmp_path), *args)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert code == 0
    assert manifest["since"] == "2024-01-04T10:00:00.000000+00:00"
    assert manifest["types"][0]["rows"] == 2


def test_missing_key_is_exit_2(url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--api-url", url, "export", "activities"])
    assert result.exit_code == 2
    assert "CLOSE_API_KEY" in result.stderr
