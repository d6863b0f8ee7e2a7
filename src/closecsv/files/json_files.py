"""The JSON files closecsv writes for other programs, and their readers.

* ``manifest.json`` (and ``manifest.<stamp>.json`` of a ``--state`` run): what an export wrote,
  one entry per type (:class:`Manifest`);
* the ``--json`` receipt of ``import`` / ``validate`` (:class:`Receipt`).

Each carries a ``version`` (1 so far) and is written from its model, so what is written is what
:func:`load_manifest` and :func:`load_receipt` read back, for a later command, a scheduler or a
Python caller.  A file without ``version`` (written before it was added, same shape) is read as
version 1.  A file of another version, one that is not JSON, or one without a field of the shape
below (or with a field of the wrong kind: no ``"12"`` for a number) is an
:class:`~closecsv.errors.InputError` (exit 2) naming the file and the field.  Fields a file has
beyond these are ignored.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from closecsv.errors import InputError

MANIFEST_VERSION = 1
RECEIPT_VERSION = 1

M = TypeVar("M", bound=BaseModel)


def _moment(text: str) -> str:
    """An ISO 8601 date-time with its offset, kept as written."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text[:40]!r} has no UTC offset")
    return text


Moment = Annotated[str, AfterValidator(_moment)]
Count = Annotated[int, Field(ge=0)]


class _File(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ManifestType(_File):
    """One exported type: its file, rows and columns, and the span of ``date_created``."""

    type_id: str
    type_name: str
    file: str
    rows: Count
    columns: list[str]
    date_created_min: Moment | None
    date_created_max: Moment | None
    note: str | None = None  # sync: why the file was left as it was (a type archived, removed)


class Manifest(_File):
    """``manifest.json``: one export run into one out dir."""

    version: int = MANIFEST_VERSION
    kind: Literal["activities", "objects"]
    route: Literal["lead", "org", "search"]
    route_reason: str | None = None  # why the export took that route
    since: Moment | None
    until: Moment | None
    formula_escaped: bool
    multi_separator: str
    types: list[ManifestType]


class ReceiptInput(_File):
    path: str
    sha256: str
    rows: Count


class ReceiptFiles(_File):
    """The reports of the run; ``errors`` is null without failed rows, ``journal`` in a dry run."""

    results: str
    errors: str | None
    journal: str | None


class Receipt(_File):
    """The ``--json`` receipt of ``import`` / ``validate`` (stdout)."""

    version: int = RECEIPT_VERSION
    command: Literal["import", "validate"]
    kind: Literal["activities", "objects"]
    input: ReceiptInput
    dry_run: bool
    counts: dict[str, Count]
    changed_fields: dict[str, Count] = {}  # fields changed per status (updated, would_update)
    started_at: Moment
    elapsed_seconds: float
    rows_per_second: float | None
    requests: Count
    lookups: Count
    rate_limited: Count
    exit_code: int
    interrupted: bool
    error: str | None
    files: ReceiptFiles
    warnings: list[str]


def dump(model: BaseModel) -> str:
    """The file's text: the model as indented JSON (non-ASCII escaped), ending in a newline."""
    return json.dumps(model.model_dump(mode="json"), indent=2) + "\n"


def load_manifest(path: Path) -> Manifest:
    """The manifest an export wrote to ``path``; an :class:`InputError` when it cannot be used."""
    return _load(
        path,
        Manifest,
        MANIFEST_VERSION,
        "manifest",
        "export again into an empty out dir (or with --force) to write a new one",
    )


def load_receipt(path: Path) -> Receipt:
    """The ``--json`` receipt saved in ``path``; an :class:`InputError` when it cannot be used."""
    return _load(
        path,
        Receipt,
        RECEIPT_VERSION,
        "receipt",
        "save the --json output of the run again (running the same command again prints one)",
    )


class _Head(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: StrictInt = 1


def _load(path: Path, model: type[M], version: int, what: str, hint: str) -> M:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what} {path}: {exc}", hint=hint) from None
    try:
        found = _Head.model_validate_json(text).version
        if found != version:
            raise InputError(
                f"the {what} {path} is version {found}; this closecsv reads version {version}",
                hint=f"read it with the closecsv that wrote it, or {hint}",
            )
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise InputError(f"cannot use the {what} {path}: {_problem(exc)}", hint=hint) from None


def _problem(exc: ValidationError) -> str:
    """One line for the first thing pydantic found wrong: the field, what, and the value."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "json_invalid":
        return f"not valid JSON ({first['msg'].removeprefix('Invalid JSON: ')})"
    if not where:
        return "not a JSON object"
    if kind == "missing":
        return f'no "{where}" field'
    value: Any = first.get("input")
    shown = f" (found {json.dumps(value)[:40]})" if not isinstance(value, dict | list) else ""
    reason = first["msg"].removeprefix("Value error, ")
    return f'"{where}": {reason[:1].lower()}{reason[1:]}{shown}'
