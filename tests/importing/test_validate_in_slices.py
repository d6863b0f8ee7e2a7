"""A dry run of a big file goes a slice at a time and says exactly what the whole-file run says.

Each file is validated whole (one slice) and cut into slices of a few hundred bytes; the
results and errors files must be byte for byte the same, and so must the counts, the
warnings and the exit code.  Files with a problem in the file itself are read whole, so the
error names the file's own line.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closecsv.cli.progress_display import LogProgress
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, KINDS
from closecsv.close.schema import Schema
from closecsv.errors import AuthError, InputError
from closecsv.importing.importer import run_import
from closecsv.importing.options import ImportOptions
from closecsv.importing.report import ImportReport, Tally
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

SAMPLES = Path(__file__).parents[2] / "sample_csvs"
WHOLE = 1 << 40
SLICES = (150, 700)
EMAILS = ["alice.smith00@example.org", "bob.garcia10@example.org", "carol.davis20@example.org"]
CALLS = "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code,custom.Notes"


@dataclass
class Checked:
    report: ImportReport
    results: bytes
    errors: bytes


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox()


def validate(
    sandbox: Sandbox, path: Path, slice_bytes: int, kind: str = "activities", **options: Any
) -> Checked:
    out = path.parent / f"reports-{slice_bytes}"
    transport = sandbox.transport()
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport) as c:
        opts = ImportOptions(dry_run=True, report_dir=out, slice_bytes=slice_bytes, **options)
        report = run_import(c, Schema(c), KINDS[kind], path, opts)
    errors = out / f"{path.stem}.validate.errors.csv"  # written only when a row would fail
    return Checked(
        report,
        (out / f"{path.stem}.validate.results.csv").read_bytes(),
        errors.read_bytes() if errors.exists() else b"",
    )


def assert_same(whole: Checked, sliced: Checked) -> None:
    assert sliced.results == whole.results
    assert sliced.errors == whole.errors
    assert sliced.report.counts() == whole.report.counts()
    assert len(sliced.report.results) == len(whole.report.results)
    assert sliced.report.warnings == whole.report.warnings
    assert sliced.report.exit_code == whole.report.exit_code


def repeated(sample: str, times: int) -> str:
    """A sample file with its data rows ``times`` over (multi-line cells kept whole)."""
    text = (SAMPLES / sample).read_text(encoding="utf-8")
    header, _, rows = text.partition("\n")
    return header + "\n" + rows * times


def calls(*rows: str, head: str = CALLS, end: str = "\n") -> str:
    return end.join([head, *rows]) + end


def call(n: int, notes: str = "ok", outcome: str = "Interested") -> str:
    return f"Discovery Call,{EMAILS[n % 3]},{outcome},R-{n},{notes}"


def messy() -> str:
    """Every structural oddity a dry run reads past, with Excel's two empty trailing columns."""
    rows = [
        *(call(n, f'"line one\nline two, {n}"') for n in range(5)),
        "",
        ",,,,",
        call(5, outcome="Maybe"),
        "Discovery Call,nobody@example.org,Interested,R-6,x",
        "Discovery Call,alice.smith00@example.org,Interested",  # short
        "Discovery Call,alice.smith00@example.org,Interested,R-8,x,,,extra",  # long
        "Discovery Call,alice.smith00@example.org,Interested,R-9,nul\x00here",
        'Discovery Call,alice.smith00@example.org,Interested,"",""',
        "Discovery Call,alice.smith00@example.org,Interested,'=1+2,'@home",
        "Discovery Call,alice.smith00@example.org,Interested,1.23457E+11,x",
        *(call(n) for n in range(10, 40)),
        "Discovery Call,bob.garcia10@example.org,Interested,4.5E+11,x",
        "   ",
    ]
    complete = [r.startswith("Discovery") and r.count(",") in (4, 5) for r in rows]
    padded = [r + ",," if full else r for r, full in zip(rows, complete, strict=True)]
    return "\n  \n" + calls(*padded, head=CALLS + ",,")  # blank lines before the header


MESSY = messy()

FILES: dict[str, tuple[str, dict[str, Any]]] = {
    "discovery calls": (repeated("discovery_calls.csv", 3), {}),
    "support tickets by name and phone": (repeated("support_tickets.csv", 3), {}),
    "deals (objects)": (repeated("deals.csv", 3), {"kind": "objects"}),
    "rows with errors": (repeated("with_errors.csv", 3), {}),
    "another CRM's file through a map": (
        repeated("othercrm_calls.csv", 3),
        {"map_file": SAMPLES / "othercrm_calls.map.csv"},
    ),
    "messy": (MESSY, {}),
    "messy with CRLF": (MESSY.replace("\n", "\r\n"), {}),
    "messy with --limit": (MESSY, {"limit": 17}),
    "two types, the second further down": (
        calls(
            *(call(n) + ",," for n in range(30)),
            *(f"Support Ticket,{EMAILS[n % 3]},,,,T-{n},High" for n in range(30)),
            head=CALLS + ",custom.Ticket ID,custom.Priority",
        ),
        {},
    ),
    "a type named only further down is unknown": (
        calls(*(call(n) for n in range(30)), "Nope Call,alice.smith00@example.org,Interested,R,x"),
        {},
    ),
    "a lone CR further down (its line is named)": (
        calls(*(call(n) for n in range(40)), call(40, "lone\rcr"), *(call(n) for n in range(9))),
        {},
    ),
    "rows with --type and no type column": (
        calls(*(call(n)[len("Discovery Call,") :] for n in range(30)), head=CALLS.split(",", 1)[1]),
        {"type_ref": "Discovery Call"},
    ),
}


@pytest.mark.parametrize("name", FILES)
def test_a_sliced_dry_run_says_what_the_whole_file_run_says(
    sandbox: Sandbox, tmp_path: Path, name: str
) -> None:
    text, options = FILES[name]
    path = tmp_path / "file.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    whole = validate(sandbox, path, WHOLE, **options)
    assert not isinstance(whole.report.results, Tally)
    for size in SLICES:
        sliced = validate(sandbox, path, size, **options)
        assert isinstance(sliced.report.results, Tally), f"{size}-byte slices were not used"
        assert_same(whole, sliced)


def test_the_messy_file_is_checked_as_a_user_expects(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text(MESSY, encoding="utf-8")
    checked = validate(sandbox, path, 97)
    rows = checked.results.decode().split("\r\n")
    assert rows[0] == CALLS + ",_row,_status,_id,_lead_id,_error,_changes"
    assert checked.report.counts() == {"would_create": 38, "failed": 6}
    assert "skipped 5 blank line(s)" in " ".join(checked.report.warnings)
    errors = checked.errors.decode().split("\r\n")
    assert errors[1].startswith("Discovery Call,carol.davis20@example.org,Maybe,R-5,ok,9,")
    assert "'Maybe' is not one of the choices" in errors[1]
    assert errors[4].startswith("Discovery Call,alice.smith00@example.org,Interested,R-8,x,12,")
    assert "expected 7 fields (as in the header), got 8" in errors[4]
    assert errors[5].endswith(",13,row 13: the row contains a NUL (0x00) byte; remove it")
    excel = [w for w in checked.report.warnings if "scientific" in w]
    assert len(excel) == 1 and "2 value(s)" in excel[0] and "on row 16" in excel[0]


@pytest.mark.parametrize(
    ("problem", "says"),
    [
        ("a bad byte", r"not valid UTF-8 at byte \d+ \(line 42\)"),
        ("an unclosed quote", r"a quote opened on line 42 is never closed"),
        ("a value without a header", r"column 6 has a value on row 42"),
    ],
)
def test_a_problem_with_the_file_names_its_own_line(
    sandbox: Sandbox, tmp_path: Path, problem: str, says: str
) -> None:
    rows = [call(n) for n in range(60)]
    rows[40] = {
        "a bad byte": call(40, "caf\udce9"),
        "an unclosed quote": call(40, '"never closed'),
        "a value without a header": call(40) + ",surprise",
    }[problem]
    text = calls(*rows, head=CALLS + ("," if problem == "a value without a header" else ""))
    if problem == "a value without a header":
        text = text.replace("ok\n", "ok,\n")
    path = tmp_path / "file.csv"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    for size in (WHOLE, 97):
        with pytest.raises(InputError, match=says):
            validate(sandbox, path, size)


def test_update_rows_are_compared_with_close_slice_by_slice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    made = tmp_path / "made.csv"
    made.write_text(calls(*(call(n) for n in range(20))), encoding="utf-8")
    transport = sandbox.transport()
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport) as c:
        opts = ImportOptions(report_dir=tmp_path / "made")
        created = run_import(c, Schema(c), ACTIVITIES, made, opts)
    assert not isinstance(created.results, Tally)
    ids = [r.instance_id for r in created.results]
    assert created.counts() == {"created": 20} and len(ids) == 20
    text = "activity_id,custom.Outcome\n" + "".join(
        f"{iid},{'Interested' if n % 2 else 'Follow up'}\n" for n, iid in enumerate(ids)
    )
    path = tmp_path / "updates.csv"
    path.write_text(text + "acti_missing,Interested\n", encoding="utf-8")
    whole = validate(sandbox, path, WHOLE)
    assert whole.report.counts() == {"unchanged": 10, "would_update": 10, "failed": 1}
    sliced = validate(sandbox, path, 60)
    assert_same(whole, sliced)
    # fetching the instances to compare is not a look-up, in slices or not
    assert sliced.report.requests > whole.report.requests
    assert sliced.report.lookups == whole.report.lookups


def test_progress_counts_every_row_once_with_the_exact_total(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, _ = FILES["two types, the second further down"]
    path = tmp_path / "file.csv"
    path.write_text(text, encoding="utf-8")
    lines: list[str] = []

    class Lines(LogProgress):
        def note(self, message: str) -> None:
            lines.append(message)

    transport = sandbox.transport()
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport) as c:
        opts = ImportOptions(dry_run=True, report_dir=tmp_path, slice_bytes=200)
        progress = Lines(io.StringIO(), interval=0.0, label="validate")
        report = run_import(c, Schema(c), ACTIVITIES, path, opts, progress)
    assert report.counts() == {"would_create": 60}
    assert any("checking the file again" in line for line in lines)
    assert lines[-1].startswith("validate: ") and "/" in lines[-1]
    done, total = re.match(r"validate: (\d+)/(\d+) rows \(100%\)", lines[-1]).groups()  # type: ignore[union-attr]
    assert done == total


def test_a_dry_run_stopped_by_an_auth_failure_leaves_no_reports(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    import httpx

    path = tmp_path / "file.csv"
    later = [f"Discovery Call,nobody{n}@example.org,Interested,R-{n},x" for n in range(30)]
    path.write_text(calls(*(call(n) for n in range(30)), *later), encoding="utf-8")
    inner = sandbox.transport()
    searches: list[str] = []

    class RevokedAfterOneSearch(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/data/search/"):
                searches.append(request.url.path)
                if len(searches) > 1:
                    return httpx.Response(401, json={"error": "The API key was revoked"})
            return inner.handle_request(request)

    out = tmp_path / "reports"
    url = "http://sb.test/api/v1/"
    with CloseClient(ApiKey(SANDBOX_API_KEY), url, transport=RevokedAfterOneSearch()) as c:
        opts = ImportOptions(dry_run=True, report_dir=out, slice_bytes=400)
        with pytest.raises(AuthError):
            run_import(c, Schema(c), ACTIVITIES, path, opts)
    assert len(searches) == 2  # one slice's leads found, the next slice's search refused
    assert not out.exists() or list(out.iterdir()) == []


CELLS = st.sampled_from(["ok", "", "a,b", 'say "hi"', "two\nlines", "=1+2", "'=3", "ünï", "  "])
ROWS = st.one_of(
    st.tuples(
        st.sampled_from(["Discovery Call", "Support Ticket", "Nope", ""]),
        st.sampled_from([*EMAILS, "nobody@example.org", ""]),
        st.sampled_from(["Interested", "Maybe", ""]),
        st.sampled_from(["R-1", "", "1.2E+11"]),
        CELLS,
        st.sampled_from(["T-1", ""]),
    ).map(lambda cells: ",".join(_quoted(c) for c in cells)),
    st.sampled_from(
        ["", "   ", ",,,,,", "Discovery Call,alice.smith00@example.org", "a,b,c,d,e,f,g"]
    ),
)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(ROWS, min_size=1, max_size=40),
    size=st.integers(min_value=20, max_value=600),
    crlf=st.booleans(),
)
def test_any_file_sliced_anywhere_gets_the_whole_file_reports(
    sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[str],
    size: int,
    crlf: bool,
) -> None:
    head = CALLS + ",custom.Ticket ID"
    text = calls(*rows, head=head, end="\r\n" if crlf else "\n")
    path = tmp_path_factory.mktemp("any") / "file.csv"
    path.write_text(text, encoding="utf-8", newline="")
    answers = []
    for slice_bytes in (WHOLE, size):
        try:
            answers.append(validate(sandbox, path, slice_bytes))
        except InputError as exc:
            answers.append(str(exc))  # type: ignore[arg-type]
    whole, sliced = answers
    if isinstance(whole, Checked) and isinstance(sliced, Checked):
        assert_same(whole, sliced)
    else:
        assert sliced == whole
