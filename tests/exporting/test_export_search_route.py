"""The search route: 200 instances per request, past the per-walk cap with ties at the
boundary, and a probe that sends ``auto`` back to the documented routes (and stops a forced
``--strategy search``) when Close's answer is not what the route needs."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.paging import Window
from closecsv.close.schema import Schema
from closecsv.errors import ApiError
from closecsv.exporting.exporter import ExportOptions, ExportReport, run_export
from closecsv.exporting.route_choice import choose_route
from closecsv.exporting.routes import Scope
from closecsv.exporting.search_route import probe_search, search_route
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from closecsv.sandbox.errors import field_error
from tests.exporting.test_export_routes import expected_ids, exported_ids
from tests.helpers.search_faults import (
    SearchAltered,
    SearchRefused,
    bare_minimum,
    no_custom_fields,
    not_a_page,
    unsorted,
)
from tests.helpers.transports import Counting


@pytest.fixture(scope="module")
def tied() -> Iterator[Sandbox]:
    """1,000 activities in runs of 7 sharing one date_created, and walks capped at 400."""
    sb = Sandbox()
    sb.populate(leads=30, activities=1000, activity_types=3)
    for n, act in enumerate(sorted(sb.state.custom_activities.values(), key=lambda a: a["id"])):
        act["date_created"] = f"2025-03-01T00:{n // 7 // 60:02d}:{n // 7 % 60:02d}.000000+00:00"
    sb.dispatcher.searcher.walk_cap = 400
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def plain() -> Iterator[Sandbox]:
    """300 activities over 3 types on 20 leads, created at random moments of one year."""
    sb = Sandbox()
    sb.populate(leads=20, activities=300, activity_types=3)
    yield sb
    sb.close()


def export(transport: httpx.BaseTransport, kind: Kind, out: Path, **options: Any) -> ExportReport:
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport) as c:
        opts = ExportOptions(out_dir=out, **options)
        return run_export(c, Schema(c), kind, opts, requests=lambda: c.stats.requests)


def test_ties_across_walks_are_exported_once_each(tied: Sandbox, tmp_path: Path) -> None:
    report = export(tied.transport(), ACTIVITIES, tmp_path, strategy="search")
    ids = exported_ids(report, ACTIVITIES)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == expected_ids(tied, ACTIVITIES)
    assert len(ids) > 2 * tied.dispatcher.searcher.walk_cap


def test_about_one_request_per_200_instances(tied: Sandbox, tmp_path: Path) -> None:
    counting = SearchAltered(tied.transport(), lambda answer: answer)
    report = export(counting, ACTIVITIES, tmp_path, strategy="search")
    pages = math.ceil(report.rows / 200)
    walks = math.ceil(report.rows / tied.dispatcher.searcher.walk_cap)
    # the probe, the pages, and at most one page more per walk (ties re-read at its start)
    assert pages + 1 <= counting.searches <= 1 + pages + walks


def test_the_route_streams_page_by_page(tied: Sandbox) -> None:
    counting = Counting(tied.transport())
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=counting) as c:
        types = tuple(tied.state.activity_types)
        scope = Scope(ACTIVITIES, types, Window(), None, ("id", "lead_id"))
        first = next(search_route(c, scope, []))
        assert first["id"]
        assert counting.count("data/search/") == 1


FAULTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "fields ignored": bare_minimum,
    "custom fields missing": no_custom_fields,
    "sort ignored": unsorted,
    "not a search page": not_a_page,
}
WHY = {
    "fields ignored": "_fields was not honoured",
    "custom fields missing": "differs from GET activity/custom/",
    "sort ignored": "not in date_created order",
    "not a search page": "not a search page",
}


@pytest.mark.parametrize("fault", [*FAULTS, "refused"])
def test_auto_falls_back_and_says_why(plain: Sandbox, tmp_path: Path, fault: str) -> None:
    inner = plain.transport()
    transport = SearchRefused(inner) if fault == "refused" else SearchAltered(inner, FAULTS[fault])
    report = export(transport, ACTIVITIES, tmp_path)
    assert report.route in ("lead", "org")
    assert report.estimate is not None
    reason = report.estimate.reason
    assert reason.startswith("the search route was not used: ")
    assert WHY.get(fault, "Close refused the search (400") in reason
    assert sorted(exported_ids(report, ACTIVITIES)) == expected_ids(plain, ACTIVITIES)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["route_reason"] == reason


@pytest.mark.parametrize("fault", [*FAULTS, "refused"])
def test_a_forced_search_that_cannot_work_stops_before_any_file(
    plain: Sandbox, tmp_path: Path, fault: str
) -> None:
    inner = plain.transport()
    transport = SearchRefused(inner) if fault == "refused" else SearchAltered(inner, FAULTS[fault])
    with pytest.raises(ApiError, match="--strategy search: the search route does not work") as e:
        export(transport, ACTIVITIES, tmp_path / "out", strategy="search")
    assert e.value.exit_code == 3
    assert "--strategy auto" in str(e.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_objects_fall_back_too(tmp_path: Path) -> None:
    sb = Sandbox()
    transport = SearchAltered(sb.transport(), no_custom_fields, object_type="custom_object")
    report = export(transport, OBJECTS, tmp_path)
    assert report.route in ("lead", "org")
    assert sorted(exported_ids(report, OBJECTS)) == expected_ids(sb, OBJECTS)


def test_an_empty_window_cannot_verify_the_search(tied: Sandbox) -> None:
    with CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=tied.transport()
    ) as c:
        future = Window(datetime(2090, 1, 1, tzinfo=UTC), None)
        scope = Scope(ACTIVITIES, tuple(tied.state.activity_types), future, None, ("id",))
        route, guess = choose_route(c, scope, 0, "auto")
        assert route in ("lead", "org")
        assert "no instance to check" in guess.reason
        forced, _ = choose_route(c, scope, 0, "search")
        assert forced == "search"


class _Failing:
    """An API whose every request fails as the client reports a garbled answer."""

    def post(self, path: str, json: Any) -> dict[str, Any]:
        raise ApiError(f"POST {path}: gave up after 8 attempts (HTTP 200 with a body that is not "
                       "a JSON object)")  # fmt: skip

    def get(self, path: str, params: Any = None) -> dict[str, Any]:
        raise AssertionError("the probe stops at the failed search")


def test_a_search_that_fails_is_a_failed_probe_not_a_crash() -> None:
    scope = Scope(ACTIVITIES, ("actitype_x",), Window(), None, ("id", "date_created"))
    probe = probe_search(_Failing(), scope)  # type: ignore[arg-type]
    assert not probe.usable and not probe.verified
    assert probe.reason.startswith("the search failed (POST data/search/: gave up")


def _refuse_instance_searches(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    handlers = next(h for p, h in sb.dispatcher.routes if p.pattern.startswith("data/search"))
    handle = handlers["POST"]

    def refusing(req: Any) -> Any:
        body = req.body if isinstance(req.body, dict) else {}
        if "activity.custom_activity" in json.dumps(body.get("_fields", {})):
            raise field_error("query", "Unsupported object_type.")
        return handle(req)

    monkeypatch.setitem(handlers, "POST", refusing)


def _cli(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, "export", *args]
    )
    return result.exit_code, result.stderr


def test_the_cli_says_which_route_and_why(
    served: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb, url = served
    code, err = _cli(url, "activities", "--out-dir", str(tmp_path / "a"))
    assert code == 0, err
    assert [line for line in err.splitlines() if line.startswith("route: search (")]
    assert "by the search route" in err
    _refuse_instance_searches(sb, monkeypatch)
    code, err = _cli(url, "activities", "--out-dir", str(tmp_path / "b"))
    assert code == 0, err
    assert re.search(
        r"^route: (lead|org) \(the search route was not used: Close refused", err, re.M
    )
    code, err = _cli(url, "activities", "--out-dir", str(tmp_path / "c"), "--strategy", "search")
    assert code == 3
    assert "--strategy search: the search route does not work here" in err
    assert "Traceback" not in err
    assert SANDBOX_API_KEY not in err
