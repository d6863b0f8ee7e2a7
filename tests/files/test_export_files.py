"""Export file names are safe on any file system, confined to the out dir, and never clobber."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from closecsv.errors import InputError
from closecsv.files.outputs import (
    MAX_STEM,
    AtomicFile,
    file_names,
    prepare_out_dir,
    safe_stem,
)

SAFE = re.compile(r"^[A-Za-z0-9_-]{1,120}\.csv$")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Discovery Call", "Discovery_Call"),
        ("Sales/Ops ../Call", "Sales_Ops_Call"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "actitype_1"),
        (".", "actitype_1"),
        ("a/b\\c", "a_b_c"),
        ("CON", "_CON"),
        ("nul", "_nul"),
        ("COM1", "_COM1"),
        ("lpt9", "_lpt9"),
        ("Call\x00Log\nx", "Call_Log_x"),
        ("Réunion d'équipe", "Reunion_d_equipe"),
        ("電話", "actitype_1"),
        ("%2e%2e%2fetc", "2e_2e_2fetc"),
        ("   ", "actitype_1"),
        ("C:\\Windows\\system32", "C_Windows_system32"),
        ("x" * 300, "x" * MAX_STEM),
        ("emoji 📞 call", "emoji_call"),
        ("-rf", "rf"),
    ],
)
def test_hostile_type_names_become_safe_stems(name: str, expected: str) -> None:
    assert safe_stem(name, "actitype_1") == expected


@pytest.mark.parametrize(
    "name",
    ["..", "../x", "/abs/path", "CON", "a" * 500, "\x00", "a:b*c?d|e<f>g\"h'", "manifest"],
)
def test_every_file_name_is_a_plain_safe_name(name: str, tmp_path: Path) -> None:
    names = file_names([("actitype_Z9", name)], "csv")
    assert SAFE.match(names["actitype_Z9"])
    root = prepare_out_dir(tmp_path / "out", names.values(), force=False)
    assert (root / names["actitype_Z9"]).parent == root


def test_collisions_get_the_type_id_whatever_the_order() -> None:
    types = [("actitype_b", "Call"), ("actitype_a", "call"), ("actitype_c", "Sales/Call")]
    names = file_names(types, "csv")
    assert names == {
        "actitype_a": "call-actitype_a.csv",
        "actitype_b": "Call-actitype_b.csv",
        "actitype_c": "Sales_Call.csv",
    }
    assert file_names(list(reversed(types)), "csv") == names


def test_the_manifest_name_is_never_taken() -> None:
    assert file_names([("cotype_1", "manifest")], "json") == {"cotype_1": "manifest-cotype_1.json"}


def test_ids_that_sanitise_alike_still_get_distinct_names() -> None:
    names = file_names([("a/1", "X"), ("a:1", "X")], "csv")
    assert len({n.casefold() for n in names.values()}) == 2


def test_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    (tmp_path / "Call.csv").write_text("keep")
    with pytest.raises(InputError, match=r"Call\.csv already exists") as info:
        prepare_out_dir(tmp_path, ["Call.csv"], force=False)
    assert info.value.exit_code == 2
    assert prepare_out_dir(tmp_path, ["Call.csv"], force=True) == tmp_path.resolve()


@pytest.mark.parametrize("force", [False, True])
def test_a_planted_symlink_is_refused_even_with_force(tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "Call.csv").symlink_to(victim)
    with pytest.raises(InputError, match="is a symlink"):
        prepare_out_dir(out, ["Call.csv"], force=force)
    assert victim.read_text() == "precious"


def test_a_directory_under_the_final_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Call.csv").mkdir()
    with pytest.raises(InputError, match="a directory"):
        prepare_out_dir(tmp_path, ["Call.csv"], force=True)


def test_atomic_file_appears_only_on_commit(tmp_path: Path) -> None:
    target = AtomicFile(tmp_path / "Call.csv")
    target.text().write("id\r\n1\r\n")
    assert not (tmp_path / "Call.csv").exists()
    target.commit()
    assert (tmp_path / "Call.csv").read_bytes() == b"id\r\n1\r\n"
    assert os.listdir(tmp_path) == ["Call.csv"]


def test_atomic_file_discard_leaves_nothing(tmp_path: Path) -> None:
    target = AtomicFile(tmp_path / "Call.csv")
    target.text().write("partial")
    target.discard()
    assert os.listdir(tmp_path) == []


def test_a_symlink_planted_during_the_write_is_not_replaced(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = AtomicFile(tmp_path / "Call.csv")
    (tmp_path / "Call.csv").symlink_to(victim)
    with pytest.raises(InputError, match="became a symlink"):
        target.commit()
    assert victim.read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["Call.csv", "victim.txt"]
