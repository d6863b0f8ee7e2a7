"""``closecsv demo --workdir DIR`` deletes only what an earlier demo wrote there."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from closecsv.cli import demo, main
from closecsv.cli.demo import MARKER, Step, prepare_workdir


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_the_demo_did_not_make_is_refused_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "projects").mkdir(parents=True)
    (home / "notes.txt").write_text("keep me", encoding="utf-8")
    (home / "projects" / "thesis.tex").write_text("years of work", encoding="utf-8")
    before = snapshot(home)

    result = CliRunner().invoke(main, ["demo", "--workdir", str(home)])

    assert result.exit_code == 2
    assert f"--workdir {home} is not empty and was not made by closecsv demo" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(home) == before
    assert not (home / MARKER).exists()


def test_a_new_or_empty_folder_is_taken_and_marked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_workdir(empty)
    prepare_workdir(tmp_path / "new" / "deeper")
    assert (empty / MARKER).is_file()
    assert (tmp_path / "new" / "deeper" / MARKER).is_file()


def test_a_demo_folder_loses_only_what_the_demo_wrote(tmp_path: Path) -> None:
    work = tmp_path / "demo-out"
    prepare_workdir(work)
    (work / "org.json").write_text("{}", encoding="utf-8")
    (work / "reports").mkdir()
    (work / "reports" / "calls.results.csv").write_text("x", encoding="utf-8")
    (work / "exports").mkdir()
    (work / "my-notes.txt").write_text("mine", encoding="utf-8")

    prepare_workdir(work)

    assert sorted(p.name for p in work.iterdir()) == [MARKER, "my-notes.txt"]
    assert (work / "my-notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_marker_that_is_a_symlink_does_not_count(tmp_path: Path) -> None:
    elsewhere = tmp_path / "marker-elsewhere"
    elsewhere.write_text("not the demo's", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    (work / MARKER).symlink_to(elsewhere)
    (work / "reports").mkdir()

    result = CliRunner().invoke(main, ["demo", "--workdir", str(work)])

    assert result.exit_code == 2
    assert (work / "reports").is_dir()
    assert elsewhere.read_text(encoding="utf-8") == "not the demo's"


def test_a_folder_in_the_way_of_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")

    result = CliRunner().invoke(main, ["demo", "--workdir", str(blocker / "sub")])

    assert result.exit_code == 2
    assert f"cannot use --workdir {blocker / 'sub'}" in result.stderr
    assert blocker.read_text(encoding="utf-8") == "x"


def test_a_file_put_in_a_demo_folder_survives_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's own folders (exports/, reports/) may hold a user's file: a rerun removes
    the files the last run wrote, not the folder with everything in it."""
    one_export = [
        Step("Export custom objects", ("export", "objects", "--out-dir", "{out}/exports")),
    ]
    monkeypatch.setattr(
        demo,
        "demo_steps",
        lambda _s, out: [
            Step(s.title, tuple(a.format(out=out) for a in s.args)) for s in one_export
        ],
    )
    work = tmp_path / "demo-out"
    first = CliRunner().invoke(main, ["demo", "--workdir", str(work), "--samples", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert (work / "exports" / "Deal.csv").is_file()
    (work / "exports" / "my-pivot.xlsx").write_text("an afternoon of work", encoding="utf-8")
    (work / "reports").mkdir()
    (work / "reports" / "notes.txt").write_text("mine", encoding="utf-8")

    prepare_workdir(work)  # what the next run does first

    assert (work / "exports" / "my-pivot.xlsx").read_text(
        encoding="utf-8"
    ) == "an afternoon of work"
    assert (work / "reports" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in (work / "exports").iterdir()) == ["my-pivot.xlsx"]
    assert not (work / "org.json").exists()


def test_a_listed_file_behind_a_link_is_not_removed(tmp_path: Path) -> None:
    """The marker's list is followed inside the workdir only: a demo folder replaced by a
    link to someone's folder is not emptied through the link."""
    work = tmp_path / "demo-out"
    prepare_workdir(work)
    (work / MARKER).write_text(
        "closecsv demo made this folder\nfiles it wrote:\nexports/objects/Deal.csv\n",
        encoding="utf-8",
    )
    theirs = tmp_path / "theirs"
    (theirs / "objects").mkdir(parents=True)
    (theirs / "objects" / "Deal.csv").write_text("theirs", encoding="utf-8")
    (work / "exports").symlink_to(theirs)

    prepare_workdir(work)

    assert (theirs / "objects" / "Deal.csv").read_text(encoding="utf-8") == "theirs"
