"""The API key never leaves the process (docs/ADVERSARIAL.md I).

Full import and export flows, good and bad (rejected rows, 5xx and dropped connections, a
refused key, Ctrl-C), run against a sandbox that accepts a distinctive key, with DEBUG
logging on for every logger (closecsv, httpx, httpcore).  Then every byte the runs left
behind is searched for the key and its base64 forms: stdout, stderr, the log, results and
errors CSVs, the journal's SQLite bytes, export files (CSV and Parquet), manifests, state.
"""

from __future__ import annotations

import base64
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import closecsv
from closecsv.cli import main
from closecsv.cli.app import ARGV_KEY_WARNING
from closecsv.sandbox import Sandbox
from closecsv.sandbox.limits import FaultPlan
from tests.helpers.faults import write_calls

KEY = "api_7QxSecretSoakKey9Zt.W4vLm2Np8Rk6Hj0Yc3Bd"
WRONG = "api_RevokedOrTypoedKey1.Xx5Yy6Zz7Aa8Bb9Cc0"
SRC = str(Path(closecsv.__file__).resolve().parent.parent)


def forms(key: str) -> list[bytes]:
    encoded = [base64.b64encode(f"{key}:".encode()), base64.b64encode(key.encode())]
    return [
        key.encode(),
        *encoded,
        *(e.rstrip(b"=") for e in encoded),  # the same without padding
        key.encode("utf-16-le"),
    ]


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


class Streams:
    """Everything the CLI printed, kept for the final search."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[str] = []

    def __call__(self, *args: str, key: str = KEY) -> int:
        result = CliRunner().invoke(
            main, ["--api-url", self.url, *args], env={"CLOSE_API_KEY": key}
        )
        self.seen += [result.stdout, result.stderr, repr(result.exception)]
        return result.exit_code


def leaks(root: Path, texts: list[str]) -> list[str]:
    found = []
    blobs = [(f"text {i}", t.encode()) for i, t in enumerate(texts)]
    blobs += [(str(p), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
    for where, blob in blobs:
        for key in (KEY, WRONG):
            found += [f"{where}: {form!r}" for form in forms(key) if form in blob]
    return found


@pytest.mark.slow
def test_no_output_file_or_log_holds_the_key(tmp_path: Path, debug_log: Path) -> None:
    sandbox = Sandbox(api_key=KEY, fault_rate=0.12, seed=9)
    good = write_calls(tmp_path / "calls.csv", sandbox, 30, frozenset({3, 17}))
    with sandbox.serve() as url:
        cli = Streams(url)
        assert cli("import", "activities", str(good), "--json", "--settle-seconds", "0.2") == 1
        out = tmp_path / "export-csv"
        assert cli("export", "activities", "--out-dir", str(out)) == 0
        assert sandbox.dispatcher.status_counts[0] > 0  # commit+drop happened (and 5xx)
        sandbox.dispatcher.faults = FaultPlan(0.0, 0)  # the rest without faults: faster
        rerun = ("import", "activities", str(good), "--json", "--settle-seconds", "0.2")
        assert cli(*rerun) == 1  # rerun from the journal
        assert cli("validate", "activities", str(good)) == 1
        state = str(tmp_path / "state.json")
        assert cli("export", "activities", "--out-dir", str(out / "pq"), "--format", "parquet") == 0
        assert cli("export", "objects", "--out-dir", str(out / "o"), "--state", state) == 0
        assert cli("import", "activities", str(good), key=WRONG) == 3
        assert cli("export", "objects", "--out-dir", str(tmp_path / "x"), key=WRONG) == 3
        interrupted = ctrl_c(url, tmp_path)
    assert debug_log.stat().st_size > 10_000  # the debug log really was written
    assert (tmp_path / "calls.journal.sqlite").exists() and interrupted.exists()
    assert leaks(tmp_path, cli.seen) == []
    sandbox.close()


def ctrl_c(url: str, tmp: Path) -> Path:
    """A real process with DEBUG logging to a file, interrupted mid-run; returns its log."""
    log = tmp / "ctrl-c.log"
    work = tmp / "ctrl-c"
    work.mkdir()
    path = write_calls(work / "calls.csv", Sandbox(), 60)
    code = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1]); "
        "from closecsv.cli import main; main(sys.argv[2:], prog_name='closecsv')"
    )
    args = [sys.executable, "-c", code, str(log), "--api-url", url, "import"]
    env = {**os.environ, "CLOSE_API_KEY": KEY, "PYTHONPATH": SRC}
    proc = subprocess.Popen(
        [*args, "activities", str(path), "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and b"POST activity/custom/" not in _read(log):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    (work / "stdout.bin").write_bytes(out)
    (work / "stderr.bin").write_bytes(err)
    assert proc.returncode == 130, err.decode()
    return log


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def test_a_key_on_the_command_line_gets_a_warning(tmp_path: Path) -> None:
    sandbox = Sandbox(api_key=KEY)
    with sandbox.serve() as url:
        result = CliRunner().invoke(main, ["--api-key", KEY, "--api-url", url, "schema"])
        quiet = CliRunner().invoke(main, ["--api-url", url, "schema"], env={"CLOSE_API_KEY": KEY})
    assert result.exit_code == 0 and quiet.exit_code == 0
    assert result.stderr.splitlines()[0] == ARGV_KEY_WARNING
    assert "CLOSE_API_KEY" in ARGV_KEY_WARNING and KEY not in result.stderr
    assert ARGV_KEY_WARNING not in quiet.stderr
    sandbox.close()


@pytest.mark.parametrize(
    "url", ["http://api.close.com/api/v1/", "http://10.0.0.5:8080/api/v1/", "ftp://x/"]
)
def test_a_plain_http_url_outside_loopback_is_refused_before_the_key_is_sent(url: str) -> None:
    result = CliRunner().invoke(main, ["--api-url", url, "schema"], env={"CLOSE_API_KEY": KEY})
    assert result.exit_code == 2
    assert "closecsv: error: API URL" in result.stderr and KEY not in result.stderr


KEY2 = "api_SecondKeyOfTheOrg4Qw.E7rTy8Ui9Op0As1Df2Gh"
KEY3 = "api_ThirdKeyOtherOrgZz3.K5lMn6Bv7Cx8Zq9Wa0Sd1F"


@pytest.mark.slow
def test_several_keys_never_leave_the_process(tmp_path: Path, debug_log: Path) -> None:
    """Several keys: a run that works, one with a key of another organization, one with a key
    Close refuses and one with an empty item.  No key, nor its base64, is in anything left."""
    sandbox = Sandbox(api_key=KEY, more_keys=[KEY2], other_org_keys=[KEY3], fault_rate=0.1)
    good = write_calls(tmp_path / "calls.csv", sandbox, 20)
    with sandbox.serve() as url:
        cli = Streams(url)
        run = ("import", "activities", str(good), "--settle-seconds", "0.2")
        assert cli(*run, key=f"{KEY},{KEY2}") in (0, 3)
        assert cli(*run, key=f"{KEY},{KEY2}") == 0
        assert (
            cli("export", "activities", "--out-dir", str(tmp_path / "x"), key=f"{KEY},{KEY2}") == 0
        )
        assert cli(*run, key=f"{KEY},{KEY3}") == 2  # another organization
        assert cli(*run, key=f"{KEY},{WRONG}") == 3  # refused by Close
        assert cli(*run, key=f"{KEY}, ,{KEY2}") == 2  # an empty item
    assert any("key 2 of 2 belongs to another organization" in t for t in cli.seen)
    assert any("API key 2 of 2: authentication refused" in t for t in cli.seen)
    assert debug_log.stat().st_size > 1_000
    found = leaks(tmp_path, cli.seen)
    for key in (KEY2, KEY3):
        found += [f"{t[:40]!r}" for t in cli.seen for f in forms(key) if f in t.encode()]
        found += [
            str(p)
            for p in tmp_path.rglob("*")
            if p.is_file()
            for f in forms(key)
            if f in p.read_bytes()
        ]
    assert found == []
    sandbox.close()
