"""docs/ADVERSARIAL.md B: headers and mapping, through the CLI against a sandbox.

The product's rule wins over the case list where they differ: headers are exact and
case-sensitive, so a near miss (``Lead_Email``, `` lead_email ``) is an error with a
suggestion, not a match.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.adversarial_input import Case, Harness, both, errors_are, serve, values_are

HEAD = "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code"
ROW = "Discovery Call,{e0},Interested,R-1"
NOTHING = "header, nothing was sent"

CASES: dict[str, Case] = {
    "B1-duplicate-headers": Case(f"{HEAD},custom.Notes,custom.Notes\n{ROW},a,b\n", code=2,
                                 says=(r"duplicate column\(s\) 'custom.Notes'",
                                       r"rename or delete the copies")),
    "B1-duplicate-after-map": Case(f"{HEAD},Memo,Note\n{ROW},a,b\n", code=2,
                                   args=("--map", "MAP:Memo=custom.Notes,Note=custom.Notes"),
                                   says=(r"'Memo', 'Note' all map to 'custom.Notes'",)),
    "B2-case-and-spaces-suggest": Case(
        "custom_activity_type, Lead_Email ,custom.outcome,custom.Reference Code\n"
        "Discovery Call,{e0},Interested,R-1\n", code=2, says=(
            NOTHING, r"unknown column ' Lead_Email ': did you mean 'lead_email'",
            r"unknown column 'custom.outcome': did you mean 'custom.Outcome'",
            r"headers are exact and case-sensitive")),
    "B3-unknown-field": Case(f"{HEAD},custom.Qz\n{ROW},x\n", code=2, says=(
        r"unknown column 'custom.Qz': no such field on the type\(s\) Discovery Call",)),
    "B3-unknown-column": Case(f"{HEAD},Comments\n{ROW},x\n", code=2, says=(
        r"unknown column 'Comments': not a column of this import \(start it with _",)),
    "B3-underscore-carried": Case(f"{HEAD},_source\n{ROW},old crm\n", writes=1,
                                  check=lambda run, h: _cell(run, "_source", "old crm")),
    "B4-required-column-missing": Case(
        "custom_activity_type,lead_email,custom.Outcome\nDiscovery Call,{e0},Interested\n"
        "Discovery Call,{e1},Follow up\n", code=1, says=(r"failed\s+2",),
        check=errors_are(*2 * ["required field 'custom.Reference Code' is empty: fill it, "
                               "or import the row as a draft"])),
    "B4-required-missing-draft-ok": Case(
        "custom_activity_type,lead_email,custom.Outcome\nDiscovery Call,{e0},Interested\n",
        args=("--status", "draft"), writes=1),
    "B5-short-and-long-rows": Case(
        f"{HEAD}\n{ROW}\nDiscovery Call,{{e0}},Interested\n{ROW},extra,cells,here\n{ROW}\n",
        code=1, writes=2, says=(r"created\s+2", r"failed\s+2"), check=errors_are(
            "row 3: expected 4 fields (as in the header), got 3: add the missing cells",
            "row 4: expected 4 fields (as in the header), got 7: a cell that contains the "
            "delimiter must be wrapped in quotes")),
    "B6-unknown-type-option": Case(f"{HEAD}\n{ROW}\n", args=("--type", "Discovery Cal"),
                                   code=2, says=(r"Discovery Cal", r"did you mean")),
    "B6-unknown-type-cell": Case(f"{HEAD}\nDiscovery Cal,{{e0}},Interested,R-1\n{ROW}\n",
                                 code=1, writes=1, check=errors_are(
                                     "row 2: column 'custom_activity_type': unknown type "
                                     "'Discovery Cal' (did you mean 'Discovery Call'?)")),
    "B7-rtl-override-escaped": Case(f"{HEAD},custom.Notes\u202e\n{ROW},x\n", code=2,
                                    says=(r"unknown column 'custom.Notes\\u202e': did you mean "
                                          r"'custom.Notes'",)),
}  # fmt: skip


def _cell(run: object, column: str, value: str) -> None:
    rows = run.results()  # type: ignore[attr-defined]
    assert [r[column] for r in rows] == [value] and rows[0]["_status"] == "created"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from serve(tmp_path_factory.mktemp("adversarial-headers"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_header_hazards(harness: Harness, case: Case) -> None:
    if any(a.startswith("MAP:") for a in case.args):
        case = _with_map_file(harness, case)
    case.run(harness)


def _with_map_file(h: Harness, case: Case) -> Case:
    pairs = next(a for a in case.args if a.startswith("MAP:"))[4:].split(",")
    path = h.write("from,to\n" + "\n".join(p.replace("=", ",") for p in pairs) + "\n")
    args = tuple(str(path) if a.startswith("MAP:") else a for a in case.args)
    return Case(case.text, args, case.code, case.says, case.writes, case.check)


@pytest.fixture
def emoji_harness(tmp_path: Path) -> Iterator[Harness]:
    """A sandbox whose Discovery Call ``Notes`` field is called ``Notes 📝 نص``."""
    for h in serve(tmp_path):
        fid = h.fields["Notes"]
        h.sandbox.state.fields[fid]["name"] = "Notes 📝 نص"
        h.fields["Notes 📝 نص"] = fid
        yield h


@pytest.mark.parametrize(
    "case",
    [
        Case(f"{HEAD},custom.Notes 📝 نص\n{ROW},x\n", writes=1,
             check=both(values_are("Notes 📝 نص", "x"))),
        Case(f"{HEAD},custom.Notes 📝\n{ROW},x\n", code=2,
             says=(r"unknown column 'custom.Notes 📝': did you mean 'custom.Notes 📝 نص'",)),
    ],
    ids=["B7-emoji-rtl-header-matched-exactly", "B7-emoji-near-miss-suggested"],
)  # fmt: skip
def test_unicode_headers_match_exactly(emoji_harness: Harness, case: Case) -> None:
    case.run(emoji_harness)
