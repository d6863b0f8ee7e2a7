"""The streaming sinks write whole files or nothing, in CSV and typed Parquet."""

from __future__ import annotations

import csv
import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from closecsv.files.writers import CsvSink, ParquetSink

SCHEMA = {
    "id": pl.String,
    "n": pl.Float64,
    "d": pl.Date,
    "t": pl.Datetime("us", "UTC"),
    "m": pl.List(pl.String),
    "b": pl.Boolean,
}


def _typed(i: int) -> dict[str, object]:
    return {
        "id": f"acti_{i}",
        "n": float(i),
        "d": date(2024, 1, 1 + i % 28),
        "t": datetime(2024, 1, 1, i % 24, tzinfo=UTC),
        "m": ["Core", "API"] if i % 2 else None,
        "b": i % 3 == 0,
    }


@pytest.mark.parametrize(
    "value",
    ['foo","=1+1', "a;=1+1", "line\nbreak", "cr\rlf\r\n", "0012", "1234567890123456", "📞 ok"],
)
def test_csv_cells_read_back_exactly(tmp_path: Path, value: str) -> None:
    sink = CsvSink(tmp_path / "x.csv", ["id", "value"])
    sink.write([["1", value]])
    sink.commit()
    with (tmp_path / "x.csv").open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["id", "value"], ["1", value]]
    assert sink.rows == 1


def test_csv_uses_crlf_and_no_bom(tmp_path: Path) -> None:
    sink = CsvSink(tmp_path / "x.csv", ["a", "b"])
    sink.write([["1", "2"]])
    sink.commit()
    assert (tmp_path / "x.csv").read_bytes() == b"a,b\r\n1,2\r\n"


def test_parquet_batches_become_one_typed_file(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path / "x.parquet", SCHEMA, batch_rows=4)
    sink.write(_typed(i) for i in range(10))
    assert not (tmp_path / "x.parquet").exists()
    sink.commit()
    frame = pl.read_parquet(tmp_path / "x.parquet")
    assert frame.schema == pl.Schema(SCHEMA)
    assert frame["id"].to_list() == [f"acti_{i}" for i in range(10)]
    assert frame["m"][1].to_list() == ["Core", "API"]
    assert os.listdir(tmp_path) == ["x.parquet"]


def test_an_empty_parquet_file_still_has_the_schema(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path / "x.parquet", SCHEMA)
    sink.commit()
    assert pl.read_parquet(tmp_path / "x.parquet").schema == pl.Schema(SCHEMA)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_discard_leaves_no_trace(tmp_path: Path, kind: str) -> None:
    sink: CsvSink | ParquetSink
    if kind == "csv":
        sink = CsvSink(tmp_path / "x.csv", ["id"])
        sink.write([["1"]])
    else:
        sink = ParquetSink(tmp_path / "x.parquet", SCHEMA, batch_rows=2)
        sink.write(_typed(i) for i in range(5))
    sink.discard()
    assert os.listdir(tmp_path) == []
