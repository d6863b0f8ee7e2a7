"""An unknown ``--timezone`` is refused with the same message and hint by import and export."""

from __future__ import annotations

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


def refusal(url: str, *args: str) -> list[str]:
    result = CliRunner().invoke(
        main,
        ["--api-url", url, *args],
        env={"CLOSE_API_KEY": SANDBOX_API_KEY},
        catch_exceptions=False,
    )
    assert (result.exit_code, result.stdout) == (2, "")
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_validate_and_export_give_one_hint_for_an_unknown_zone(url: str, tmp_path: Path) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_text("custom_activity_type,lead_id\nDiscovery Call,lead_x\n", encoding="utf-8")
    checked = refusal(url, "validate", "activities", str(calls), "--timezone", "Mars/Olympus")
    out = tmp_path / "out"
    exported = refusal(
        url,
        "export",
        "activities",
        "--out-dir",
        str(out),
        "--since",
        "2000-01-01",
        "--timezone",
        "Mars/Olympus",
    )
    assert checked == exported
    assert "unknown time zone 'Mars/Olympus'" in checked[0]
    assert any("hint: use an IANA name, e.g. Europe/Paris" in line for line in checked)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv"]
