"""Export files under attack and under faults (docs/ADVERSARIAL.md G, F11).

An export never writes through a symlink (at the final name, the manifest's name or the
temporary name), never replaces a file without ``--force``, replaces a regular file with it,
reports a full disk as a clear error with no file left behind, and reads every instance
exactly once however often the API fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import closecsv.files.outputs as export_files
from closecsv.cli import main
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.errors import FatalError
from closecsv.exporting.exporter import ExportOptions, run_export
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.csvfiles import read_rows

FILE = "Discovery_Call.csv"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sandbox = Sandbox()
    with sandbox.serve() as base:
        yield base
    sandbox.close()


def export(url: str, out: Path, *extra: str) -> Result:
    args = ["--api-url", url, "export", "activities", "--type", "Discovery Call"]
    return CliRunner().invoke(
        main, [*args, "--out-dir", str(out), *extra], env={"CLOSE_API_KEY": SANDBOX_API_KEY}
    )


def plant(out: Path, name: str) -> Path:
    victim = out.parent / f"victim-{name}.txt"
    victim.write_text("precious")
    out.mkdir(exist_ok=True)
    (out / name).symlink_to(victim)
    return victim


@pytest.mark.parametrize("name", [FILE, "manifest.json"])
@pytest.mark.parametrize("force", [False, True])
def test_a_planted_symlink_is_never_written_through(
    url: str, tmp_path: Path, name: str, force: bool
) -> None:
    out = tmp_path / "out"
    victim = plant(out, name)
    result = export(url, out, *(["--force"] if force else []))
    assert result.exit_code == 2
    assert "is a symlink; refusing to write through it" in result.stderr
    assert victim.read_text() == "precious"
    assert sorted(os.listdir(out)) == [name]


def test_a_file_of_the_same_name_is_kept_without_force_and_replaced_with_it(
    url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / FILE).write_text("mine")
    kept = export(url, out)
    assert kept.exit_code == 2 and "already exists" in kept.stderr
    assert (out / FILE).read_text() == "mine"
    replaced = export(url, out, "--force")
    assert replaced.exit_code == 0, replaced.stderr
    assert (out / FILE).read_text(encoding="utf-8").startswith("activity_id,")
    assert not (out / FILE).is_symlink()


def test_a_symlink_at_the_temporary_name_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_files.secrets, "token_hex", lambda _n: "guessed")
    out = tmp_path / "out"
    victim = plant(out, f".{FILE}.{os.getpid()}-guessed.part")
    sandbox = Sandbox()
    options = ExportOptions(out_dir=out, type_refs=("Discovery Call",))
    with sandbox_client(sandbox.transport()) as c, pytest.raises(FatalError, match="File exists"):
        run_export(c, Schema(c), ACTIVITIES, options)
    assert victim.read_text() == "precious"
    assert not (out / FILE).exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_mid_export_is_a_clear_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = export_files.AtomicFile.__init__

    def on_full_disk(self: export_files.AtomicFile, path: Path) -> None:
        real(self, path)
        self.binary.close()
        self.binary = open("/dev/full", "wb")  # noqa: SIM115

    monkeypatch.setattr(export_files.AtomicFile, "__init__", on_full_disk)
    sandbox = Sandbox()
    sandbox.populate(leads=20, activities=3000, activity_types=1)
    out = tmp_path / "out"
    with (
        sandbox_client(sandbox.transport()) as c,
        pytest.raises(FatalError, match="No space left") as info,
    ):
        run_export(c, Schema(c), ACTIVITIES, ExportOptions(out_dir=out))
    assert info.value.exit_code == 3
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


def test_an_export_under_faults_reads_every_instance_exactly_once(tmp_path: Path) -> None:
    calm = Sandbox(seed=3)
    calm.populate(leads=30, activities=1500, activity_types=2)
    stormy = Sandbox(fault_rate=0.3, seed=3)
    stormy.populate(leads=30, activities=1500, activity_types=2)
    files = {}
    for name, sandbox in (("calm", calm), ("stormy", stormy)):
        with sandbox_client(sandbox.transport(), sleep=lambda _s: None, max_attempts=20) as c:
            report = run_export(c, Schema(c), ACTIVITIES, ExportOptions(out_dir=tmp_path / name))
        files[name] = {t["file"]: read_rows(report.out_dir / t["file"]) for t in report.types}
    faults = stormy.dispatcher.status_counts
    assert sum(n for status, n in faults.items() if status >= 500) >= 5, faults
    assert files["stormy"] == files["calm"]
    for rows in files["stormy"].values():
        ids = [r["activity_id"] for r in rows]
        assert len(ids) == len(set(ids))
    assert sum(len(rows) for rows in files["stormy"].values()) >= 1500
