"""docs/ADVERSARIAL.md A: file encodings and CSV structure, through the CLI against a sandbox.

Each case writes the bytes of a file, runs ``closecsv import activities`` on it and checks
what a user notices: the exit code, a message naming the file, line or row and a next step,
how many write requests reached Close, and what Close holds afterwards.
"""

from __future__ import annotations

import codecs
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from closecsv.files.csvio import read_table
from tests.helpers.adversarial_input import Harness, Run, serve

HEAD = "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code,custom.Notes"
ROW = "Discovery Call,{e0},Interested,R-{n},{notes}"
Check = Callable[[Run, Harness], None]


def body(*notes: str, head: str = HEAD, end: str = "\n") -> str:
    """A file with one valid row per ``notes`` cell (placeholders ``{e0}`` filled later)."""
    rows = [ROW.format(e0="{e0}", n=i, notes=n) for i, n in enumerate(notes)]
    return end.join([head, *rows]) + end


def notes_are(*expected: str | None) -> Check:
    def check(run: Run, h: Harness) -> None:
        assert run.field("Notes", h.fields) == list(expected)

    return check


def error_says(run: Run, *parts: str) -> None:
    [error] = run.errors()
    assert all(p in error for p in parts), error


def rows_are(*expected: tuple[str, str]) -> Check:
    def check(run: Run, h: Harness) -> None:
        assert run.statuses() == list(expected)

    return check


@dataclass(frozen=True)
class Case:
    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    args: tuple[str, ...] = ()
    code: int = 0
    says: tuple[str, ...] = ()
    writes: int = 0
    check: Check | None = None

    def data(self, h: Harness) -> bytes:
        return self.bom + self.text.replace("{e0}", h.email()).encode(self.encoding)


CP1252 = body("Café – “x”")
SEMICOLON = HEAD.replace(",", ";") + "\nDiscovery Call;{e0};Interested;R-1;1,50\n"
ONE_BAD_BYTE = body(*(f"n{i}" for i in range(3000))).replace("n2500", "n2500 caf\xe9")
UNCLOSED = body(*(f"n{i}" for i in range(20))).replace("n8", '"n8 opens and never closes')

CASES: dict[str, Case] = {
    # A1: BOMs.  Every Unicode BOM selects its encoding; the BOM never reaches a header.
    "A1-utf8-bom": Case(body("x"), bom=codecs.BOM_UTF8, writes=1, check=notes_are("x")),
    "A1-utf16le-bom": Case(body("ü"), "utf-16-le", codecs.BOM_UTF16_LE, writes=1,
                           check=notes_are("ü")),
    "A1-utf16be-bom": Case(body("ü"), "utf-16-be", codecs.BOM_UTF16_BE, writes=1,
                           check=notes_are("ü")),
    "A1-utf32le-bom": Case(body("😀"), "utf-32-le", codecs.BOM_UTF32_LE, writes=1,
                           check=notes_are("😀")),
    "A1-utf32be-bom": Case(body("😀"), "utf-32-be", codecs.BOM_UTF32_BE, writes=1,
                           check=notes_are("😀")),
    # A2/A3: Windows-1252 bytes.
    "A2-cp1252-refused": Case(CP1252, "cp1252", code=2, says=(
        r"in\d+\.csv: not valid UTF-8 at byte \d+ \(line 2\)", r"--encoding cp1252")),
    "A2-cp1252-with-encoding": Case(CP1252, "cp1252", args=("--encoding", "cp1252"),
                                    writes=1, check=notes_are("Café – “x”")),
    "A3-latin1-warns-c1": Case(CP1252, "cp1252", args=("--encoding", "latin-1"), writes=1,
                               says=(r"warning: .*C1 control characters.*--encoding cp1252",)),
    # A4: Excel "Unicode Text" is UTF-16 with a BOM and tabs.
    "A4-utf16-tabs-hint": Case(body("x").replace(",", "\t"), "utf-16", code=2,
                               says=(r"looks tab-delimited", r"--delimiter '\\t'")),
    "A4-utf16-tabs-delimiter": Case(body("x").replace(",", "\t"), "utf-16",
                                    args=("--delimiter", "\t"), writes=1, check=notes_are("x")),
    "A4-utf16-no-bom": Case(body("x"), "utf-16-le", code=2,
                            says=(r"full of NUL bytes", r"--encoding utf-16")),
    # A5: one bad byte deep in the file fails the whole file before anything is sent.
    "A5-late-bad-byte": Case(ONE_BAD_BYTE, "latin-1", code=2,
                             says=(r"not valid UTF-8 at byte \d+ \(line 2502\)",)),
    # A6: European Excel.
    "A6-semicolon-hint": Case(SEMICOLON, code=2,
                              says=(r"looks semicolon-delimited", r"--delimiter ';'")),
    "A6-semicolon-delimiter": Case(
        SEMICOLON.replace("Notes", "Duration (min)"), args=("--delimiter", ";"), code=1,
        says=(r"failed\s+1",), check=lambda run, h: error_says(run, "'1,50' is not a number"),
    ),
    # A7: the same records whatever the line endings.
    "A7-lf": Case(body("a", "b"), writes=2, check=notes_are("a", "b")),
    "A7-crlf": Case(body("a", "b", end="\r\n"), writes=2, check=notes_are("a", "b")),
    "A7-cr": Case(body("a", "b", end="\r"), writes=2, check=notes_are("a", "b")),
    # A8: line breaks inside quotes are kept byte for byte and the record stays one row.
    "A8-quoted-newlines": Case(body('"a\r\nb"', '"c\nd"', "e", end="\r\n"), writes=3,
                               check=lambda run, h: (notes_are("a\r\nb", "c\nd", "e")(run, h),
                                                     rows_are(("2", "created"), ("3", "created"),
                                                              ("4", "created"))(run, h))),
    # A9: an unterminated quote names its line and swallows nothing.
    "A9-unclosed-quote": Case(UNCLOSED, code=2, says=(
        r"in\d+\.csv: a quote opened on line 10 is never closed", r'"5"" pipe"')),
    # A10: a bare quote inside an unquoted cell is refused, naming the line and the fix.
    "A10-bare-quote": Case(body('5" pipe', "ok"), code=2, says=(r"line 2", r'"5"" pipe"')),
    "A10-two-bare-quotes": Case(body('5" pipe', "ok", '6" pipe'), code=2,
                                says=(r"line 2", r'"5"" pipe"')),
    # A11: a NUL byte fails its row only.
    "A11-nul-byte": Case(body("a\x00b", "fine"), code=1, writes=1, check=lambda run, h: (
        notes_are("fine")(run, h), rows_are(("2", "failed"), ("3", "created"))(run, h),
        error_says(run, "row 2: the row contains a NUL (0x00) byte"))),
    # A12: nothing to import.
    "A12-empty-file": Case("", code=2, says=(r"in\d+\.csv is empty: no header row",
                                             r"the first line must name the columns")),
    "A12-header-only": Case(HEAD + "\n", says=(r"0 rows",), check=rows_are()),
    "A12-header-and-blank-lines": Case(HEAD + "\n\n  \n\r\n", says=(
        r"0 rows", r"warning: .*in\d+\.csv: skipped 3 blank line\(s\)")),
    "A12-blank-lines-between-rows": Case(body("a", "", "b").replace("\nDiscovery Call,{e0},"
                                         "Interested,R-1,\n", "\n\n"), writes=2,
                                         says=(r"skipped 1 blank line",),
                                         check=rows_are(("2", "created"), ("4", "created"))),
    # A13: Excel's empty trailing columns.
    "A13-empty-trailing-columns": Case(body("x").replace("\n", ",,\n"), writes=1,
                                       says=(r"ignored 2 empty column\(s\) without a header",),
                                       check=notes_are("x")),
    "A13-data-without-header": Case(HEAD + ",\nDiscovery Call,{e0},Interested,R-1,x,oops\n",
                                    code=2, says=(r"column 6 has a value on row 2 \('oops'\) "
                                                  r"but no header", r"name it")),
    # A1: a UTF-8 BOM says UTF-8: another --encoding would garble every accent.
    "A1-utf8-bom-other-encoding": Case(body("Réunion"), bom=codecs.BOM_UTF8,
                                       args=("--encoding", "cp1252"), code=2, says=(
        r"in\d+\.csv starts with a UTF-8 byte-order mark \(EF BB BF\), but --encoding cp1252",
        r"leave out --encoding")),
    # A4/A6: the delimiter a header of one column holds, whichever was given.
    "A6-comma-file-semicolon-given": Case(body("x"), args=("--delimiter", ";"), code=2,
                                          says=(r"looks comma-delimited",
                                                r"hint: leave out --delimiter \(comma")),
    "A4-tab-typed-as-the-hint-prints-it": Case(body("x").replace(",", "\t"),
                                               args=("--delimiter", "\\t"), writes=1,
                                               check=notes_are("x")),
    "A4-tab-as-a-word": Case(body("x").replace(",", "\t"), args=("--delimiter", "tab"),
                             writes=1, check=notes_are("x")),
    "A6-quote-delimiter": Case(body("x"), args=("--delimiter", '"'), code=2,
                               says=(r"--delimiter '\"' cannot be used", r"or the word tab")),
    "A6-non-ascii-delimiter": Case(body("x").replace(",", "§"), args=("--delimiter", "§"),
                                   code=2, says=(r"--delimiter '§' is not an ASCII character",
                                                 r"replace it in the file")),
    # A7: a lone CR in an LF file (where Excel and Python's csv end a row) fails its row.
    "A7-lone-cr-joins-rows": Case(body("a", "b", "c").replace(",a\n", ",a\r"), code=1,
                                  writes=1, check=lambda run, h: (
        rows_are(("2", "failed"), ("3", "created"))(run, h),
        error_says(run, "line 2 has a carriage return (CR) outside quotes"),
        notes_are("c")(run, h))),
    # A17: a workbook is read as one whatever its name; a damaged one, an old .xls or an
    # archive is refused.
    "A17-xlsx": Case("PK\x03\x04\x14\x00\x06\x00[Content_Types].xml xl/workbook.xml\x00\x00",
                     "latin-1", code=2, says=(r"in\d+\.csv: not a readable \.xlsx workbook",
                                              r"save it again as an Excel Workbook \(\.xlsx\)")),
    "A17-xls": Case("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "\x00" * 200, "latin-1", code=2,
                    says=(r"in\d+\.csv is an Excel 97-2003 workbook \(\.xls\), a password",
                          r"save it as an Excel Workbook \(\.xlsx\), without a password")),
    "A17-zip": Case("PK\x03\x04\x14\x00\x00\x00calls.csv", "latin-1", code=2,
                    says=(r"in\d+\.csv is a zip archive",
                          r"hint: unzip it and give the CSV file inside")),
}  # fmt: skip


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from serve(tmp_path_factory.mktemp("adversarial-files"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_file_hazards(harness: Harness, case: Case) -> None:
    run = harness("import", "activities", case.data(harness), *case.args)
    assert run.code == case.code, run.stderr
    for pattern in case.says:
        assert re.search(pattern, run.stderr), (pattern, run.stderr)
    assert run.writes == case.writes, run.stderr
    if case.code == 2:
        assert run.result.stdout == "" and "closecsv: error:" in run.stderr
    if case.check is not None:
        case.check(run, harness)


def test_a_pipe_or_stdin_is_refused_before_reading(harness: Harness) -> None:
    """A16: FILE must be a regular file (it is read twice: hashed, then parsed)."""
    run = harness("import", "activities", Path("-"))
    assert run.code == 2 and "does not exist" in run.stderr and run.writes == 0


def test_a_file_that_changed_since_the_crash_is_not_resumed_blindly(
    harness: Harness, tmp_path: Path
) -> None:
    """A15: the journal knows rows by content; a row edited after it was created is reported
    (exit 1), never created a second time."""
    first = harness.write(body("a", "b").replace("{e0}", harness.email()))
    done = harness("import", "activities", first)
    assert done.code == 0 and done.writes == 2
    first.write_bytes(first.read_bytes().replace(b"R-1,b", b"R-1,b2"))
    again = harness("import", "activities", first, report_dir=done.report_dir)
    assert again.code == 1 and again.writes == 0
    errors = (done.report_dir / f"{first.stem}.errors.csv").read_text()
    assert "was already created as acti_" in errors and "not created again" in errors


def test_a_journal_written_for_another_organization_is_not_resumed(harness: Harness) -> None:
    """A15: a key of another org would reconcile and send against the wrong org's data."""
    path = harness.write(body("a", "b").replace("{e0}", harness.email()))
    done = harness("import", "activities", path)
    assert done.code == 0 and done.writes == 2
    journal = done.report_dir / f"{path.stem}.journal.sqlite"
    with sqlite3.connect(journal) as conn:
        stored = conn.execute("SELECT value FROM meta WHERE key = 'organization'").fetchone()
        assert stored is not None and stored[0].startswith("orga_")
        conn.execute("UPDATE meta SET value = 'orga_elsewhere' WHERE key = 'organization'")
    conn.close()
    again = harness("import", "activities", path, report_dir=done.report_dir)
    assert again.code == 2 and again.writes == 0
    assert "orga_elsewhere" in again.stderr and "--report-dir" in again.stderr


def _rfc4180(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in '",\r\n') else cell


_cell_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    | st.sampled_from(list("\"',;\r\n\t =+-@0")),
)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(_cell_text, min_size=1, max_size=5), crlf=st.booleans())
@example(cells=["\r"], crlf=False)
@example(cells=["x\ny,z\nw", "a\r\nb"], crlf=True)
def test_any_quoted_text_reads_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, cells: list[str], crlf: bool
) -> None:
    """A8, A7: whatever a CSV writer quotes (quotes, delimiters, CR, LF, any Unicode) reads back
    as the same cells, one record per row, with either line ending."""
    # RFC 4180 quoting by hand: Python's csv.writer leaves a lone CR unquoted when the line
    # terminator is "\n", which is a file no reader can take back exactly.
    rows = [["k", "v"], *([f"r{i}", c] for i, c in enumerate(cells))]
    text = "".join(",".join(map(_rfc4180, row)) + ("\r\n" if crlf else "\n") for row in rows)
    path = tmp_path_factory.mktemp("prop") / "p.csv"
    path.write_bytes(text.encode())
    table = read_table(path)
    assert table.frame.select("k", "v").rows() == [
        (f"r{i}", c or None) for i, c in enumerate(cells)
    ]
