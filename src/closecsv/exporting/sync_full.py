"""The types a sync exports in full, and what changed in them compared with the old file.

A sync exports a type in full on its first run, when the type is new in the selection, when
its fields changed (its columns must follow the schema), when its file is missing, and for
every type when the state cannot be continued (see :mod:`closecsv.exporting.sync_state`).
The export is :func:`~closecsv.exporting.exporter.run_export` itself, with its route
selection and cost model, into a hidden staging folder inside the sync's folder (same file
system, so moving a file into place is one atomic rename).

Without an event log to say what changed, the changes are found by comparing the fresh file
with the old one by id: ids only in the new file are inserts, ids only in the old file are
deletes (an instance deleted since), ids in both whose row differs are updates (all of them
when the columns changed).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from closecsv.close.api import SearchApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema
from closecsv.exporting.exporter import ExportOptions, ExportReport, run_export
from closecsv.exporting.sync_apply import TypeChanges
from closecsv.files.cells import unneutralise
from closecsv.progress import Progress

STAGING = ".sync-staging"


def export_full(
    api: SearchApi,
    schema: Schema,
    kind: Kind,
    base: ExportOptions,
    type_ids: list[str],
    progress: Progress,
) -> tuple[ExportReport, dict[str, tuple[Path, int]]]:
    """Export ``type_ids`` into the staging folder: the report and ``{type id: (file, rows)}``."""
    staging = base.out_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    options = replace(base, type_refs=tuple(type_ids), out_dir=staging, force=True)
    report = run_export(api, schema, kind, options, progress)
    files = {str(t["type_id"]): (staging / str(t["file"]), int(t["rows"])) for t in report.types}
    return report, files


def remove_staging(folder: Path) -> None:
    shutil.rmtree(folder / STAGING, ignore_errors=True)


_LEFTOVER = re.compile(r"^\..+\.\d+-[0-9a-f]{8}\.part$")


def remove_leftovers(folder: Path) -> None:
    """What a killed run left: the staging folder and hidden ``.part`` files (the names
    :class:`~closecsv.files.outputs.AtomicFile` gives), never a final name."""
    remove_staging(folder)
    for path in folder.iterdir():
        if _LEFTOVER.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)


def read_table(path: Path, parquet: bool) -> pl.DataFrame:
    """A mirror or export file as a frame (CSV: every cell as text, empty cells as "")."""
    if parquet:
        return pl.read_parquet(path)
    frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
    return frame


def diff_files(
    old: Path | None, new: Path, id_column: str, parquet: bool, *, rows: bool = True
) -> tuple[TypeChanges, pl.DataFrame]:
    """What changed from ``old`` to ``new`` (see the module docstring), and ``new``'s rows of
    the inserts and updates (for a change file; without ``rows``, a type with no old file
    reads only the ids of the new one)."""
    changes = TypeChanges()
    if not rows and (old is None or not old.exists()):
        ids = _ids(new, id_column, parquet)
        changes.inserted, changes.upsert_ids = set(ids), ids
        return changes, pl.DataFrame()
    fresh = read_table(new, parquet)
    if old is None or not old.exists():
        changes.inserted = set(fresh.get_column(id_column).to_list())
        changes.upsert_ids = fresh.get_column(id_column).to_list()
        return changes, fresh
    try:
        before = read_table(old, parquet)
    except (OSError, pl.exceptions.PolarsError):
        before = fresh.clear()
    old_ids = set(before.get_column(id_column).to_list()) if id_column in before.columns else set()
    new_ids = fresh.get_column(id_column).to_list()
    changes.removed = old_ids - set(new_ids)
    changes.inserted = set(new_ids) - old_ids
    changes.updated = _updated(before, fresh, id_column) & old_ids
    changes.upsert_ids = [i for i in new_ids if i in changes.inserted or i in changes.updated]
    return changes, fresh.filter(pl.col(id_column).is_in(changes.upsert_ids))


def _ids(path: Path, id_column: str, parquet: bool) -> list[str]:
    scan = pl.scan_parquet(path) if parquet else pl.scan_csv(path, infer_schema=False)
    return [str(i) for i in scan.select(id_column).collect().get_column(id_column).to_list()]


def _updated(before: pl.DataFrame, fresh: pl.DataFrame, id_column: str) -> set[str]:
    """Ids whose row differs (every id of ``fresh`` when the columns differ)."""
    ids = set(fresh.get_column(id_column).to_list())
    if before.schema != fresh.schema:
        return ids
    old = dict(zip(before.get_column(id_column).to_list(), before.hash_rows(), strict=True))
    new = zip(fresh.get_column(id_column).to_list(), fresh.hash_rows(), strict=True)
    return {i for i, h in new if i in old and old[i] != h}


def frame_rows(frame: pl.DataFrame, parquet: bool) -> list[Any]:
    """The rows of ``frame`` as the sinks take them: dicts (Parquet) or lists of text (CSV)."""
    if parquet:
        return frame.to_dicts()
    return [list(row) for row in frame.rows()]


def date_span(path: Path, parquet: bool) -> Mapping[str, Any]:
    """``date_created`` min and max of a mirror file, as the export's manifest writes them."""
    if parquet:
        span = pl.scan_parquet(path).select(
            lo=pl.col("date_created").min(), hi=pl.col("date_created").max()
        )
    else:
        text = pl.scan_csv(path, infer_schema=False).select(pl.col("date_created"))
        moments = text.filter(pl.col("date_created") != "").select(
            pl.col("date_created").str.to_datetime(time_zone="UTC")
        )
        span = moments.select(lo=pl.col("date_created").min(), hi=pl.col("date_created").max())
    row = span.collect().row(0)
    return {
        "date_created_min": None if row[0] is None else row[0].isoformat(timespec="microseconds"),
        "date_created_max": None if row[1] is None else row[1].isoformat(timespec="microseconds"),
    }


def known_lead_names(
    files: list[Path], wanted: set[str], *, parquet: bool, raw: bool
) -> dict[str, str]:
    """``{lead id: lead_name}`` for the ``wanted`` leads that rows of ``files`` hold."""
    if not wanted or not files:
        return {}
    columns = ["lead_id", "lead_name"]
    if parquet:
        scans = [pl.scan_parquet(f).select(columns) for f in files]
    else:
        scans = [pl.scan_csv(f, infer_schema=False).select(columns) for f in files]
    ids = pl.Series(sorted(wanted), dtype=pl.String()).implode()
    found = pl.concat(scans).filter(pl.col("lead_id").is_in(ids)).unique("lead_id").collect()
    pairs = zip(found["lead_id"].to_list(), found["lead_name"].to_list(), strict=True)
    if parquet or raw:
        return {str(i): str(n or "") for i, n in pairs}
    return {str(i): unneutralise(str(n or "")) for i, n in pairs}
