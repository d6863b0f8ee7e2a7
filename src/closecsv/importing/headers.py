"""Import headers: ``--map`` renames, then an exact, case-sensitive check (README: "CSV format").

Every problem is collected and reported at once in one :class:`InputError` (exit 2), before
any request is sent, with a "did you mean" for near misses (``Lead_Email`` -> ``lead_email``,
``custom.outcome`` -> ``custom.Outcome``).  Columns whose name starts with ``_`` (the tool's
own report columns, or a column mapped to ``_...``) are carried into the reports and not
imported; the kind's read-only columns (``date_updated``, ...) are accepted and ignored.
``custom.<Field Name>`` and ``custom.<field id>`` address fields of the types in play (the
``--type``, or the union of the types present in the file).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from closecsv.close.kinds import Kind
from closecsv.close.schema import CUSTOM_PREFIX, FieldInfo, TypeInfo, suggest
from closecsv.errors import InputError
from closecsv.files.csvbytes import load_bytes


@dataclass(frozen=True)
class Columns:
    """The file's columns by role, under the file's own names.

    ``standard`` maps a standard column (``lead_email``) to the file column holding it;
    ``custom`` maps a file column to its fields, per type id.
    """

    standard: dict[str, str]
    custom: dict[str, dict[str, FieldInfo]]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    renamed: dict[str, str] = field(default_factory=dict)  # file column -> its --map target

    def label(self, column: str) -> str:
        """A file column as messages name it: as the user wrote it, and its target if mapped
        (``'Call Date' (mapped to 'date_created')``)."""
        target = self.renamed.get(column)
        return f"{column!r} (mapped to {target!r})" if target else repr(column)


def load_map(path: Path) -> dict[str, str]:
    """A ``--map`` file: a JSON object ``{"from": "to"}`` or a CSV with the header ``from,to``."""
    text = load_bytes(path).decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("{"):
        return _json_map(text, path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0]] != ["from", "to"]:
        raise InputError(
            f"{path}: a column map needs the header 'from,to'",
            hint='write a CSV with the header from,to or a JSON object {"Old": "new"}',
        )
    bad = [i + 2 for i, row in enumerate(rows[1:]) if row and len(row) != 2]
    if bad:
        raise InputError(f"{path}: line(s) {bad} of the column map do not have two cells")
    entries = [(row[0], row[1], i + 2) for i, row in enumerate(rows[1:]) if row]
    return _unique(entries, path)


def _json_map(text: str, path: Path) -> dict[str, str]:
    try:
        pairs = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(pairs, list) or not all(isinstance(v, str) for _, v in pairs):
        raise InputError(f"{path}: a JSON column map must be an object of strings")
    lines = _json_key_lines(text)
    return _unique(
        [(k, v, lines[n] if n < len(lines) else 0) for n, (k, v) in enumerate(pairs)], path
    )


def _json_key_lines(text: str) -> list[int]:
    """The line of each key of a flat JSON object, in order (a string then ``:`` is a key)."""
    keys = re.finditer(r'"(?:[^"\\]|\\.)*"\s*:', text)
    return [text.count("\n", 0, m.start()) + 1 for m in keys]


def _unique(entries: list[tuple[str, str, int]], path: Path) -> dict[str, str]:
    """``from -> to``; a ``from`` given twice is an error naming it and its lines."""
    lines: dict[str, list[int]] = {}
    for source, _, line in entries:
        lines.setdefault(source, []).append(line)
    repeated = {source: at for source, at in lines.items() if len(at) > 1}
    if repeated:
        said = "; ".join(
            f"{source!r} on lines {', '.join(map(str, at))}" for source, at in repeated.items()
        )
        raise InputError(
            f"{path}: the column map maps the same column more than once: {said}",
            hint="keep one line per column (each file column can have only one new name)",
        )
    return {source: target for source, target, _ in entries}


def apply_map(
    columns: Sequence[str], mapping: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Target name per file column, and warnings for map entries the file lacks."""
    targets = {c: mapping.get(c, c) for c in columns}
    warnings = [
        f"--map: the file has no column {src!r} (mapped to {dst!r}); entry ignored"
        for src, dst in mapping.items()
        if src not in targets
    ]
    return targets, warnings


def check_headers(
    columns: Sequence[str],
    kind: Kind,
    types: Sequence[TypeInfo],
    mapping: Mapping[str, str] | None = None,
) -> Columns:
    """Sort the columns by role; raise one :class:`InputError` listing every problem."""
    targets, warnings = apply_map(columns, mapping or {})
    problems = _duplicates(targets)
    standard: dict[str, str] = {}
    custom: dict[str, dict[str, FieldInfo]] = {}
    ignored: list[str] = []
    known = _known_names(kind, types)
    for column, target in targets.items():
        if target.startswith("_") or target in kind.readonly_columns:
            ignored.append(column)
        elif target in kind.standard_columns:
            standard[target] = column
        elif target.startswith(CUSTOM_PREFIX) and _fields_for(target, types):
            custom[column] = _fields_for(target, types)
        else:
            problems.append(_unknown(column, target, known, types))
    if problems:
        raise InputError(
            f"{len(problems)} problem(s) with the header, nothing was sent:\n  "
            + "\n  ".join(problems),
            hint=_map_hint(targets, known) + "headers are exact and case-sensitive; "
            f"`closecsv template {kind.name} TYPE` writes a correct header",
        )
    renamed = {c: t for c, t in targets.items() if c != t}
    return Columns(standard, custom, tuple(ignored), tuple(warnings), renamed)


def _duplicates(targets: Mapping[str, str]) -> list[str]:
    seen: dict[str, list[str]] = {}
    for column, target in targets.items():
        if not target.startswith("_"):
            seen.setdefault(target, []).append(column)
    return [
        f"columns {', '.join(map(repr, cols))} all map to {target!r}"
        for target, cols in seen.items()
        if len(cols) > 1
    ]


def _fields_for(target: str, types: Sequence[TypeInfo]) -> dict[str, FieldInfo]:
    found = ((t.id, t.field_for_column(target)) for t in types)
    return {type_id: f for type_id, f in found if f is not None}


def _known_names(kind: Kind, types: Sequence[TypeInfo]) -> list[str]:
    names = [*kind.standard_columns, *kind.readonly_columns]
    for t in types:
        names.extend(f.column for f in t.fields if f.column not in names)
    return names


def _unknown(column: str, target: str, known: Sequence[str], types: Sequence[TypeInfo]) -> str:
    shown = repr(column) if column == target else f"{column!r} (mapped to {target!r})"
    hint = _suggest(target, known)
    if hint:
        return f"unknown column {shown}: {hint}"
    if target.startswith(CUSTOM_PREFIX):
        names = ", ".join(t.name for t in types) or "none"
        return f"unknown column {shown}: no such field on the type(s) {names}"
    likely = _FOREIGN.get(target.strip().lower())
    if column == target and likely in known:
        return f"unknown column {shown}: if it holds {likely}, rename it with --map"
    return f"unknown column {shown}: not a column of this import (start it with _ to carry it)"


# Headers other systems use for a column this tool has another name for.
_FOREIGN = {
    "email": "lead_email",
    "e-mail": "lead_email",
    "email address": "lead_email",
    "contact email": "lead_email",
    "phone": "lead_phone",
    "phone number": "lead_phone",
    "company": "lead_name",
    "company name": "lead_name",
    "lead": "lead_name",
    "lead name": "lead_name",
    "account": "lead_name",
    "date": "date_created",
    "created": "date_created",
    "created at": "date_created",
    "activity date": "date_created",
    "owner": "user",
    "assigned to": "user",
    "type": "custom_activity_type",
    "id": "activity_id",
}


def _map_hint(targets: Mapping[str, str], known: Sequence[str]) -> str:
    """For a file from another system (a plain column the tool does not know): ``--map``."""
    foreign = [
        c
        for c, t in targets.items()
        if c == t and not t.startswith(("_", CUSTOM_PREFIX)) and t not in known
    ]
    if not foreign:
        return ""
    column = foreign[0]
    likely = _FOREIGN.get(column.strip().lower())
    target = likely if likely in known else "lead_email"
    return (
        "columns from another system can be renamed with --map FILE, a CSV with the header "
        f"from,to and one line per column, e.g. {column},{target}; "
    )


def _suggest(target: str, known: Sequence[str]) -> str | None:
    """A suggestion; ``custom.`` names compare without the prefix that they all share."""
    if not target.startswith(CUSTOM_PREFIX):
        return suggest(target.strip(), known) or suggest(target, known)
    fields = [k.removeprefix(CUSTOM_PREFIX) for k in known if k.startswith(CUSTOM_PREFIX)]
    found = suggest(target.removeprefix(CUSTOM_PREFIX).strip(), fields)
    full = {f"did you mean {f!r}?": f"did you mean {CUSTOM_PREFIX + f!r}?" for f in fields}
    return full.get(found or "")
