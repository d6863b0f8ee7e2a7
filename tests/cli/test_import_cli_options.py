"""Import options a user reaches for with files from other systems: encodings and phones."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

HEADER = "lead_email,custom_activity_type,custom.Outcome,custom.Reference Code,custom.Notes\n"


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, *args])
    return result.exit_code, result.stdout, result.stderr


def notes(sandbox: Sandbox, reference: str) -> list[str]:
    call = next(t for t in sandbox.state.activity_types.values() if t["name"] == "Discovery Call")
    fields = [sandbox.state.fields[i] for i in call["field_ids"]]
    field_ids = {f["name"]: f["id"] for f in fields}
    ref_key, notes_key = f"custom.{field_ids['Reference Code']}", f"custom.{field_ids['Notes']}"
    return [
        a[notes_key]
        for a in sandbox.state.custom_activities.values()
        if a.get(ref_key) == reference
    ]


def test_cp1252_file_fails_with_a_hint_then_imports_exactly_with_encoding(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    text = HEADER + "alice.smith00@example.org,Discovery Call,Interested,ENC-1,Café – “quoted”\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp1252"))
    code, _, err = run(url, "import", "activities", str(path))
    assert code == 2
    assert "UTF-8" in err and "--encoding" in err and "line 2" in err
    assert notes(sandbox, "ENC-1") == []
    code, _, err = run(url, "import", "activities", str(path), "--encoding", "cp1252")
    assert code == 0, err
    assert notes(sandbox, "ENC-1") == ["Café – “quoted”"]


def test_utf16_file_with_its_bom_imports(served: tuple[Sandbox, str], tmp_path: Path) -> None:
    sandbox, url = served
    text = HEADER + "alice.smith00@example.org,Discovery Call,Interested,ENC-2,Grüße\n"
    path = tmp_path / "unicode.csv"
    path.write_bytes(text.encode("utf-16"))
    code, _, err = run(url, "import", "activities", str(path), "--encoding", "utf-16")
    assert code == 0, err
    assert notes(sandbox, "ENC-2") == ["Grüße"]


def test_semicolon_file_imports_with_delimiter(served: tuple[Sandbox, str], tmp_path: Path) -> None:
    sandbox, url = served
    text = (
        HEADER.replace(",", ";") + "alice.smith00@example.org;Discovery Call;Interested;D-1;a,b\n"
    )
    path = tmp_path / "semi.csv"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(url, "import", "activities", str(path))
    assert code == 2
    assert "--delimiter" in err
    code, _, err = run(url, "import", "activities", str(path), "--delimiter", ";")
    assert code == 0, err
    assert notes(sandbox, "D-1") == ["a,b"]
