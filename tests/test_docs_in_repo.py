"""Every document the code, tests and docs point to is in the repository.

A maintainer who clones closecsv must be able to follow each reference: no citation of
documents that were never committed (the product brief, the API notes or the research they
came from, a style guide), and every ``docs/<name>.md`` named anywhere exists.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("src", "tests", "bench", "docs")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".sh", ".yml", ".yaml"}
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis"}

# Built from pieces so that this file does not match itself.  The two names in capitals are
# matched case-sensitively ("Reference Code" is a field of the sample data).
OUTSIDE_DOCUMENTS = re.compile(
    "|".join(
        (
            r"\b" + "SP" + r"EC\b",
            r"\b" + "REF" + r"ERENCE\b",
            "(?i:relia" + r"bility(\.md)?\s*§)",
            "(?i:relia" + r"bility\.md)",
            "(?i:ST" + r"YLE\.md)",
            r"(?i:\b" + "rese" + r"arch/)",
            "(?i:pe" + r"ers\.md)",
            "(?i:aesth" + r"etics\.md)",
        )
    )
)
DOCS_LINK = re.compile(r"\bdocs/([A-Za-z0-9_.-]+?\.md)\b")


def repo_texts() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & SKIPPED_DIRS or any(p.endswith(".egg-info") for p in parts):
                continue
            if path.is_file() and path.suffix in SUFFIXES:
                files.append(path)
    return files


def hits(pattern: re.Pattern[str]) -> list[tuple[str, int, str, re.Match[str]]]:
    found = []
    for path in repo_texts():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in pattern.finditer(line):
                found.append((str(path.relative_to(ROOT)), number, line.strip(), match))
    return found


def test_the_scan_sees_the_source_tests_and_docs() -> None:
    names = {str(p.relative_to(ROOT)) for p in repo_texts()}
    assert {"README.md", "docs/ARCHITECTURE.md", "src/closecsv/errors.py"} <= names
    assert "tests/test_docs_in_repo.py" in names


def test_nothing_cites_a_document_outside_the_repository() -> None:
    own = str(Path(__file__).resolve().relative_to(ROOT))
    lines = (f"{f}:{n}: {line}" for f, n, line, _ in hits(OUTSIDE_DOCUMENTS) if f != own)
    cited = list(dict.fromkeys(lines))
    assert cited == [], (
        "these lines cite a document that is not in the repository; state the rule where it "
        "is used or point to a file under docs/:\n" + "\n".join(cited)
    )


def test_every_docs_file_named_exists() -> None:
    missing = [
        f"{f}:{n}: docs/{m.group(1)}"
        for f, n, _, m in hits(DOCS_LINK)
        if not (ROOT / "docs" / m.group(1)).is_file()
    ]
    assert missing == [], "these lines name a docs/ file that does not exist:\n" + "\n".join(
        missing
    )
