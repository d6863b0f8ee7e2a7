"""``--key COLUMN``: rows without an id are matched to existing instances by a field's value.

A row with no id cell (``activity_id`` / ``custom_object_id``) is looked up among the
instances of its type on its lead whose key field holds the row's key value, compared as the
field's converted value (text trimmed, numbers by value, date-times as instants):

* no match: the row is a create, as without ``--key``;
* one match: the row is an update of that instance (only the cells given, compared with the
  instance as listed: ``unchanged`` when equal, so no second read of it is made);
* several matches: the row fails (``ambiguous key``, with the ids).

Rows with an id cell keep updating by id.  Before any look-up, rows fail whose key cell is
empty (``empty key``), whose type has no such field, or whose key value repeats in the file
for the same type, whatever the lead (``duplicate key in file``, naming the other rows): a
key is taken to identify one record of the old system, so two rows with it are a mistake to
look at rather than two records.

Look-ups: one listing (``GET <instances>?lead_id=…&<type filter>=…``, the filters Close
documents for both kinds, one lead per request as documented) per distinct (lead, type) of
the key rows, paged when a lead has more instances than a page, sent from a few threads and
cached for the file.  The instances listed are kept (:attr:`KeyIndex.listed`) and are the
current state the executor compares update rows with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from closecsv.close.api import ReadApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import CUSTOM_PREFIX, FieldInfo, TypeInfo, suggest
from closecsv.errors import InputError
from closecsv.files.csvio import READ_ERROR, ROW
from closecsv.files.moments import parse_iso
from closecsv.importing.headers import Columns
from closecsv.importing.plan_rows import ACTION, TYPE_ERROR, TYPE_ID
from closecsv.importing.plan_values import Output
from closecsv.importing.resolve import LEAD_ID
from closecsv.wording import plural

KEY_ID, KEY_ERROR = "__closecsv_key_id", "__closecsv_key_error"
KEY_HINT = (
    "--key names a custom.<Field Name> column of the file (after --map) whose field holds "
    "one record's id from the old system, usually a text or hidden field"
)
Pair = tuple[str, str]  # (lead id, type id)


@dataclass(frozen=True)
class KeyColumn:
    """The file column ``--key`` names, as messages name it, and its field per type id."""

    column: str
    label: str
    fields: Mapping[str, FieldInfo]


def key_column(key: str, cols: Columns, types: Sequence[TypeInfo]) -> KeyColumn:
    """The column ``key`` names (its name after ``--map``, or the file's own name); an
    :class:`InputError` (exit 2, nothing sent) when it is not a custom field column of the
    file or its field takes several values."""
    target = {c: cols.renamed.get(c, c) for c in [*cols.custom, *cols.standard.values()]}
    column = next((c for c, t in target.items() if t == key), None)
    column = column or (key if key in target else None)
    if column is None:
        raise InputError(f"--key {key!r}: {_missing(key, cols, types)}", hint=KEY_HINT)
    label = cols.label(column)
    if column not in cols.custom:
        raise InputError(
            f"--key {key!r}: the column {label} is not a custom field; a key is a field of "
            "the type that holds the old system's id",
            hint=KEY_HINT,
        )
    fields = cols.custom[column]
    several = sorted({f.name for f in fields.values() if f.multiple})
    if several:
        raise InputError(
            f"--key {key!r}: the field {several[0]!r} takes several values; a key holds one",
            hint=KEY_HINT,
        )
    return KeyColumn(column, label, dict(fields))


def _missing(key: str, cols: Columns, types: Sequence[TypeInfo]) -> str:
    """Why ``key`` names no column: a near miss among the file's columns, and the fields."""
    fields = list(dict.fromkeys(f.column for t in types for f in t.fields))
    said = f"the file has no column {key!r}"
    if key in fields:
        return said + "; add the column to the file, or name another one"
    have = [cols.renamed.get(c, c) for c in cols.custom]
    bare = {c.removeprefix(CUSTOM_PREFIX): c for c in have}
    near = suggest(key.removeprefix(CUSTOM_PREFIX).strip(), list(bare))
    if near:  # "did you mean 'Name'?" -> the column's full name
        name = next(b for b in bare if near == f"did you mean {b!r}?")
        said += f" (did you mean {bare[name]!r}?)"
    names = ", ".join(t.name for t in types) or "none"
    return f"{said}; the fields of the type(s) {names}: {', '.join(fields) or 'none'}"


def key_token(value: Any, fld: FieldInfo) -> str | None:
    """``value`` (converted, or the API's) as the text keys are compared by; None: empty."""
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if fld.type == "number" and not isinstance(value, bool):
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return repr(str(value))
    if fld.type == "datetime" and isinstance(value, str):
        try:
            return repr(parse_iso(value).timestamp())
        except ValueError:
            return repr(value)
    return repr(str(value))


class KeyIndex:
    """Existing instances by (lead, type) and key value, listed once per pair (cached)."""

    def __init__(self, client: ReadApi, kind: Kind, concurrency: int = 4) -> None:
        self.client, self.kind, self.concurrency = client, kind, max(1, concurrency)
        self.listed: dict[str, dict[str, Any]] = {}  # instance id -> the instance as listed
        self._pairs: dict[Pair, list[str]] = {}  # (lead, type) -> its instance ids
        self._tokens: dict[tuple[Pair, str], dict[str, list[str]]] = {}  # -> key -> ids

    def load(self, pairs: Iterable[Pair]) -> None:
        """List the instances of the pairs not listed yet, a few pairs at a time."""
        wanted = sorted(set(pairs) - self._pairs.keys())
        if not wanted:
            return
        with ThreadPoolExecutor(min(self.concurrency, len(wanted))) as pool:
            for pair, found in zip(wanted, pool.map(self._list, wanted), strict=True):
                self._pairs[pair] = [str(i["id"]) for i in found]
                self.listed.update((str(i["id"]), i) for i in found)

    def _list(self, pair: Pair) -> list[dict[str, Any]]:
        lead, type_id = pair
        params = {"lead_id": lead, self.kind.type_id_key: type_id}
        found = self.client.paginate(self.kind.instance_path, params)
        # a list that ignored the type filter must not match instances of another type
        return [i for i in found if i.get(self.kind.type_id_key) == type_id and "id" in i]

    def find(self, pair: Pair, token: str, fld: FieldInfo) -> list[str]:
        """The ids of the pair's instances whose key field holds ``token``."""
        index = self._tokens.get((pair, fld.id))
        if index is None:  # each pair's instances are read once per key field, not per row
            index = {}
            for iid in self._pairs.get(pair, []):
                found = key_token(self.listed[iid].get(fld.api_key), fld)
                if found is not None:
                    index.setdefault(found, []).append(iid)
            self._tokens[(pair, fld.id)] = index
        return index.get(token, [])


@dataclass(frozen=True)
class KeyRow:
    """A row without an id, as the key step sees it."""

    row: int
    type_id: str
    lead_id: str | None
    cell: str | None
    value: Any
    failed: bool  # no lead: no look-up


def key_rows(frame: pl.DataFrame, key: KeyColumn, values: Mapping[str, str]) -> list[KeyRow]:
    """The rows the key step decides: creates with a type.  ``values``: the converted
    value's column per type id (from the plan's outputs)."""
    create = (pl.col(ACTION) == "create") & pl.col(READ_ERROR).is_null()
    wanted = frame.filter(create & pl.col(TYPE_ID).is_not_null() & pl.col(TYPE_ERROR).is_null())
    by_type = [pl.when(pl.col(TYPE_ID) == t).then(pl.col(v)) for t, v in values.items()]
    value = pl.coalesce(*by_type) if by_type else pl.lit(None)
    picked = wanted.select(
        ROW, TYPE_ID, LEAD_ID, pl.col(key.column).alias("__cell"), value.alias("__value")
    )
    return [
        KeyRow(row, type_id, lead, cell, val, lead is None)
        for row, type_id, lead, cell, val in picked.iter_rows()
    ]


@dataclass
class KeyDecisions:
    """The key step's answer per row: an instance to update, or an error."""

    matched: dict[int, str]
    errors: dict[int, str]

    def apply(self, frame: pl.DataFrame, cols: Columns, kind: Kind) -> tuple[pl.DataFrame, Columns]:
        """``frame`` with matched rows turned into updates of their instance and the key
        errors added to the row errors; ``cols`` with the id column read from ``KEY_ID``."""
        rows = sorted(self.matched.keys() | self.errors.keys())
        found = pl.DataFrame(
            {
                ROW: rows,
                KEY_ID: [self.matched.get(r) for r in rows],
                KEY_ERROR: [self.errors.get(r) for r in rows],
            },
            schema={ROW: frame.schema[ROW], KEY_ID: pl.String, KEY_ERROR: pl.String},
        )
        joined = frame.join(found, on=ROW, how="left", maintain_order="left")
        given = cols.standard.get(kind.id_column)
        instance = pl.coalesce(pl.col(given), pl.col(KEY_ID)) if given else pl.col(KEY_ID)
        joined = joined.with_columns(
            pl.when(pl.col(KEY_ID).is_not_null())
            .then(pl.lit("update"))
            .otherwise(pl.col(ACTION))
            .alias(ACTION),
            pl.coalesce(pl.col(TYPE_ERROR), pl.col(KEY_ERROR)).alias(TYPE_ERROR),
            instance.alias(KEY_ID),
        )
        standard = {**cols.standard, kind.id_column: KEY_ID}
        return joined, replace(cols, standard=standard)


def decide(rows: Sequence[KeyRow], key: KeyColumn, index: KeyIndex, kind: Kind) -> KeyDecisions:
    """Each key row's instance (one match), or its error; looks up the (lead, type) pairs of
    the rows that can match, once each."""
    found = KeyDecisions({}, {})
    said = f"column {key.label} (--key)"
    noun = (kind.noun, kind.noun.removesuffix("y") + "ies" if kind.noun.endswith("y") else None)
    tokens: dict[int, str] = {}
    for r in rows:
        fld = key.fields.get(r.type_id)
        if fld is None:
            found.errors[r.row] = f"{said} is not a field of this row's type ({r.type_id})"
        elif r.cell is None or not r.cell.strip():
            found.errors[r.row] = (
                f"{said}: empty key; fill it, or fill {kind.id_column} to update by id"
            )
        elif (token := key_token(r.value, fld)) is not None:
            tokens[r.row] = token
    _duplicates(rows, tokens, said, found.errors)
    live = [r for r in rows if r.row in tokens and r.row not in found.errors and not r.failed]
    index.load((r.lead_id or "", r.type_id) for r in live)
    for r in live:
        fld = key.fields[r.type_id]
        ids = index.find((r.lead_id or "", r.type_id), tokens[r.row], fld)
        if len(ids) == 1:
            found.matched[r.row] = ids[0]
        elif ids:
            found.errors[r.row] = (
                f"{said}: ambiguous key: {r.cell!r} matches {plural(len(ids), *noun)} on lead "
                f"{r.lead_id}: {', '.join(ids)}; keep one in Close, or fill the id column "
                "to say which to update"
            )
    return found


def _duplicates(
    rows: Sequence[KeyRow], tokens: Mapping[int, str], said: str, errors: dict[int, str]
) -> None:
    """Fail every row whose (type, key value) another row of the file has too."""
    groups: dict[tuple[str, str], list[KeyRow]] = {}
    for r in rows:
        if r.row in tokens:
            groups.setdefault((r.type_id, tokens[r.row]), []).append(r)
    for members in (g for g in groups.values() if len(g) > 1):
        for r in members:
            others = ", ".join(str(m.row) for m in members if m is not r)
            errors.setdefault(
                r.row,
                f"{said}: duplicate key in file: {r.cell!r} is also on row(s) {others}; keep "
                "one row per key",
            )


class KeyStep:
    """``--key`` for one file: its column, and the rows each table matched."""

    def __init__(self, key: KeyColumn, cols: Columns, kind: Kind, index: KeyIndex) -> None:
        self.key, self.cols, self.kind, self.index = key, cols, kind, index
        self.rows: frozenset[int] = frozenset()

    def match(self, frame: pl.DataFrame, outputs: Sequence[Output]) -> tuple[pl.DataFrame, Columns]:
        """The converted ``frame`` with key rows decided (:meth:`KeyDecisions.apply`)."""
        values: dict[str, str] = {}
        for out in (o for o in outputs if o.custom and o.column == self.key.column):
            values.update((t, out.value) for t in out.type_ids or self.key.fields)
        rows = key_rows(frame, self.key, values)
        found = decide(rows, self.key, self.index, self.kind)
        self.rows = frozenset(found.matched)
        return found.apply(frame, self.cols, self.kind)


def by_key(
    key: str | None,
    cols: Columns,
    types: Sequence[TypeInfo],
    kind: Kind,
    index: KeyIndex | None,
) -> KeyStep | None:
    """The ``--key`` step of a table (None without ``--key``); a bad ``--key`` raises."""
    if key is None or index is None:
        return None
    return KeyStep(key_column(key, cols, types), cols, kind, index)
