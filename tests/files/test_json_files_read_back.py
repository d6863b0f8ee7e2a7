"""The manifest and the ``--json`` receipt carry a version and read back with their loaders.

The files are the ones the CLI writes (sandbox on a real socket); damaged ones and ones of
another version are refused with an InputError (exit 2) that names the file and the field.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.errors import InputError
from closecsv.files.json_files import load_manifest, load_receipt
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

SAMPLES = Path(__file__).resolve().parents[2] / "sample_csvs"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sb = Sandbox()
    with sb.serve() as base:
        yield base
    sb.close()


def cli(url: str, *args: str) -> tuple[int, str, str]:
    env = {"CLOSE_API_KEY": SANDBOX_API_KEY}
    result = CliRunner().invoke(main, ["--api-url", url, *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def written(url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A manifest, a --state run's manifest and an import and a validate receipt, as written."""
    tmp = tmp_path_factory.mktemp("written")
    assert cli(url, "export", "activities", "--out-dir", str(tmp / "full"))[0] == 0
    state = str(tmp / "state.json")
    code = cli(url, "export", "objects", "--out-dir", str(tmp / "runs"), "--state", state)[0]
    assert code == 0
    csv_file = tmp / "support_tickets.csv"
    shutil.copy(SAMPLES / "support_tickets.csv", csv_file)
    files = {"manifest": tmp / "full" / "manifest.json"}
    files["stamped"] = next((tmp / "runs").glob("manifest.*.json"))
    for command in ("validate", "import"):
        code, out, _ = cli(url, command, "activities", str(csv_file), "--json")
        assert code == 0
        files[command] = tmp / f"{command}.receipt.json"
        files[command].write_text(out, encoding="utf-8")
    return files


def copy_with(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(source.read_text(encoding="utf-8"))
    change(data)
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def refused(load: Callable[[Path], object], path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.exit_code == 2
    assert str(path) in str(caught.value)
    return str(caught.value)


def test_the_manifest_is_version_1_and_reads_back_as_written(written: dict[str, Path]) -> None:
    path = written["manifest"]
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    manifest = load_manifest(path)
    assert (manifest.version, manifest.kind, manifest.formula_escaped) == (1, "activities", True)
    assert [t.file for t in manifest.types] == ["Discovery_Call.csv", "Support_Ticket.csv"]
    for entry in manifest.types:
        with (path.parent / entry.file).open(newline="", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        assert header == entry.columns and len(rows) == entry.rows


def test_a_state_runs_stamped_manifest_reads_back(written: dict[str, Path]) -> None:
    manifest = load_manifest(written["stamped"])
    assert manifest.kind == "objects" and manifest.version == 1
    assert all((written["stamped"].parent / t.file).is_file() for t in manifest.types)


@pytest.mark.parametrize("command", ["import", "validate"])
def test_the_receipt_is_version_1_and_reads_back(written: dict[str, Path], command: str) -> None:
    path = written[command]
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    receipt = load_receipt(path)
    assert (receipt.version, receipt.command, receipt.kind) == (1, command, "activities")
    assert receipt.input.rows == 8 and receipt.exit_code == 0
    assert receipt.counts == ({"created": 8} if command == "import" else {"would_create": 8})
    assert Path(receipt.files.results).is_file()
    assert (receipt.files.journal is None) == (command == "validate")


def test_a_file_of_another_version_is_refused(written: dict[str, Path], tmp_path: Path) -> None:
    def bump(data: dict[str, Any]) -> None:
        data["version"] = 2

    newer = copy_with(written["manifest"], tmp_path / "manifest.json", bump)
    assert "is version 2; this closecsv reads version 1" in refused(load_manifest, newer)
    newer = copy_with(written["import"], tmp_path / "receipt.json", bump)
    assert "is version 2; this closecsv reads version 1" in refused(load_receipt, newer)


def test_a_file_without_version_reads_as_version_1(
    written: dict[str, Path], tmp_path: Path
) -> None:
    def older(data: dict[str, Any]) -> None:
        del data["version"]
        data["added_later"] = {"ignored": True}

    path = copy_with(written["manifest"], tmp_path / "manifest.json", older)
    assert load_manifest(path).version == 1
    path = copy_with(written["import"], tmp_path / "receipt.json", older)
    assert load_receipt(path).counts == {"created": 8}


def test_damaged_manifests_are_refused_naming_the_field(
    written: dict[str, Path], tmp_path: Path
) -> None:
    text = written["manifest"].read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    assert "not valid JSON" in refused(load_manifest, cut)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    assert "not a JSON object" in refused(load_manifest, listed)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"kind": "\xff"}')
    assert "cannot read the manifest" in refused(load_manifest, binary)
    assert "cannot read the manifest" in refused(load_manifest, tmp_path / "missing.json")

    def no_types(data: dict[str, Any]) -> None:
        del data["types"]

    def text_rows(data: dict[str, Any]) -> None:
        data["types"][1]["rows"] = "12"

    def naive_until(data: dict[str, Any]) -> None:
        data["until"] = "2024-05-01T10:00:00"

    cases = [
        (no_types, 'no "types" field'),
        (text_rows, '"types.1.rows": input should be a valid integer (found "12")'),
        (naive_until, "\"until\": '2024-05-01T10:00:00' has no UTC offset"),
    ]
    for change, expected in cases:
        path = copy_with(written["manifest"], tmp_path / f"{change.__name__}.json", change)
        message = refused(load_manifest, path)
        assert expected in message and "export again" in message


def test_damaged_receipts_are_refused_naming_the_field(
    written: dict[str, Path], tmp_path: Path
) -> None:
    def other_command(data: dict[str, Any]) -> None:
        data["command"] = "export"

    def text_version(data: dict[str, Any]) -> None:
        data["version"] = "1"

    def negative_count(data: dict[str, Any]) -> None:
        data["counts"]["created"] = -1

    cases = [
        (other_command, "\"command\": input should be 'import' or 'validate' (found \"export\")"),
        (text_version, '"version": input should be a valid integer (found "1")'),
        (negative_count, '"counts.created": input should be greater than or equal to 0'),
    ]
    for change, expected in cases:
        path = copy_with(written["import"], tmp_path / f"{change.__name__}.json", change)
        assert expected in refused(load_receipt, path)
