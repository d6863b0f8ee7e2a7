"""Every wanted instance is exported exactly once, by every route, across pages and windows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.schema import Schema
from closecsv.errors import InputError
from closecsv.exporting.exporter import ExportOptions, ExportReport, run_export
from closecsv.exporting.routes import Estimate
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.search_faults import SearchRefused


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    """Seed org plus 900 activities over 3 types on 40 leads, with every _skip cap at 60."""
    sb = Sandbox(max_skip=60)
    sb.populate(leads=40, activities=900, activity_types=3, objects=150)
    yield sb
    sb.close()


def export(sb: Sandbox, kind: Kind, out: Path, **options: Any) -> ExportReport:
    with CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=sb.transport()
    ) as c:
        opts = ExportOptions(out_dir=out, **options)
        return run_export(c, Schema(c), kind, opts, requests=lambda: c.stats.requests)


def exported_ids(report: ExportReport, kind: Kind) -> list[str]:
    ids: list[str] = []
    for entry in report.types:
        with (report.out_dir / entry["file"]).open(newline="", encoding="utf-8") as handle:
            ids += [row[kind.id_column] for row in csv.DictReader(handle)]
    return ids


def expected_ids(sb: Sandbox, kind: Kind, *, archived: bool = False) -> list[str]:
    types = sb.state.activity_types if kind is ACTIVITIES else sb.state.object_types
    live = {t for t, info in types.items() if archived or not info.get("is_archived")}
    coll = sb.state.custom_activities if kind is ACTIVITIES else sb.state.custom_objects
    return sorted(i for i, o in coll.items() if o[kind.type_id_key] in live)


ROUTES = ["lead", "org", "search"]


@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS], ids=["activities", "objects"])
@pytest.mark.parametrize("strategy", ROUTES)
def test_each_instance_once_past_the_skip_cap(
    big: Sandbox, tmp_path: Path, kind: Kind, strategy: str
) -> None:
    report = export(big, kind, tmp_path, strategy=strategy)
    ids = exported_ids(report, kind)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == expected_ids(big, kind)
    assert len(ids) > 60  # more than the _skip cap
    assert report.route == strategy


@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS], ids=["activities", "objects"])
def test_every_route_writes_identical_files(big: Sandbox, tmp_path: Path, kind: Kind) -> None:
    reports = [export(big, kind, tmp_path / route, strategy=route) for route in ROUTES]
    for entries in zip(*(r.types for r in reports), strict=True):
        files = [
            sorted((r.out_dir / e["file"]).read_text().splitlines())
            for r, e in zip(reports, entries, strict=True)
        ]
        assert files[0] == files[1] == files[2]
    assert sum(int(t["rows"]) for t in reports[0].types) == len(expected_ids(big, kind))


def test_auto_takes_the_search_route_when_its_probe_passes(big: Sandbox, tmp_path: Path) -> None:
    report = export(big, ACTIVITIES, tmp_path)
    assert report.estimate is not None
    assert report.route == "search"
    assert "matched GET activity/custom/{id}/" in report.estimate.reason
    assert report.estimate.wanted == len(expected_ids(big, ACTIVITIES))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["route"] == "search"
    assert manifest["route_reason"] == report.estimate.reason


def test_auto_without_search_picks_the_smaller_estimate(big: Sandbox, tmp_path: Path) -> None:
    with CloseClient(
        ApiKey(SANDBOX_API_KEY),
        "http://sb.test/api/v1/",
        transport=SearchRefused(big.transport()),
    ) as c:
        report = run_export(c, Schema(c), ACTIVITIES, ExportOptions(out_dir=tmp_path))
    assert report.estimate is not None
    assert report.route == report.estimate.cheaper
    assert report.estimate.reason.startswith("the search route was not used: Close refused")
    assert sorted(exported_ids(report, ACTIVITIES)) == expected_ids(big, ACTIVITIES)


@pytest.mark.parametrize(
    ("lead_cost", "org_cost", "cheaper"), [(10, 9, "org"), (10, 10, "org"), (9, 10, "lead")]
)
def test_estimate_prefers_the_cheaper_route(lead_cost: int, org_cost: int, cheaper: str) -> None:
    assert Estimate(1, 1, 1, lead_cost, org_cost).cheaper == cheaper


def _stamps(sb: Sandbox) -> list[str]:
    return sorted({a["date_created"] for a in sb.state.custom_activities.values()})


@pytest.mark.parametrize("strategy", ROUTES)
def test_since_is_inclusive_and_until_exclusive(
    big: Sandbox, tmp_path: Path, strategy: str
) -> None:
    stamps = _stamps(big)
    since, until = stamps[100], stamps[400]
    report = export(
        big,
        ACTIVITIES,
        tmp_path,
        strategy=strategy,
        since=datetime.fromisoformat(since),
        until=datetime.fromisoformat(until),
    )
    wanted = set(expected_ids(big, ACTIVITIES))
    inside = sorted(
        i for i, a in big.state.custom_activities.items()
        if since <= a["date_created"] < until and i in wanted
    )  # fmt: skip
    assert sorted(exported_ids(report, ACTIVITIES)) == inside
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    firsts = [t["date_created_min"] for t in manifest["types"] if t["rows"]]
    assert min(firsts) == datetime.fromisoformat(since).isoformat(timespec="microseconds")


@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS], ids=["activities", "objects"])
@pytest.mark.parametrize("strategy", [*ROUTES, "auto"])
def test_lead_query_limits_the_leads_on_every_route(
    big: Sandbox, tmp_path: Path, strategy: str, kind: Kind
) -> None:
    coll = big.state.custom_activities if kind is ACTIVITIES else big.state.custom_objects
    leads = sorted({o["lead_id"] for o in coll.values()})[:3]
    query = {"type": "or", "queries": [{"type": "id", "value": i} for i in leads]}
    report = export(big, kind, tmp_path, lead_query=query, strategy=strategy)
    assert report.route == ("search" if strategy == "auto" else strategy)
    wanted = set(expected_ids(big, kind))
    on_leads = sorted(i for i, o in coll.items() if o["lead_id"] in leads and i in wanted)
    assert on_leads
    assert sorted(exported_ids(report, kind)) == on_leads


def test_types_by_name_or_id_and_archived_on_request(tmp_path: Path) -> None:
    sb = Sandbox()
    by_name = {t["name"]: t["id"] for t in sb.state.activity_types.values()}
    report = export(
        sb, ACTIVITIES, tmp_path / "a", type_refs=("Support Ticket", by_name["Discovery Call"])
    )
    assert [t["type_name"] for t in report.types] == ["Support Ticket", "Discovery Call"]
    plain = export(sb, ACTIVITIES, tmp_path / "b")
    assert "Legacy Survey" not in [t["type_name"] for t in plain.types]
    everything = export(sb, ACTIVITIES, tmp_path / "c", include_archived=True)
    assert "Legacy Survey" in [t["type_name"] for t in everything.types]
    assert sorted(exported_ids(everything, ACTIVITIES)) == expected_ids(
        sb, ACTIVITIES, archived=True
    )


def test_an_unknown_type_is_an_input_error_before_any_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did you mean 'Discovery Call'"):
        export(Sandbox(), ACTIVITIES, tmp_path / "out", type_refs=("discovery call",))
    assert not (tmp_path / "out").exists()


def test_zero_instances_give_header_only_files(tmp_path: Path) -> None:
    report = export(Sandbox(), ACTIVITIES, tmp_path, since=datetime(2099, 1, 1, tzinfo=UTC))
    for entry in report.types:
        lines = (tmp_path / entry["file"]).read_text().splitlines()
        assert lines == [",".join(entry["columns"])]
        assert entry["rows"] == 0
