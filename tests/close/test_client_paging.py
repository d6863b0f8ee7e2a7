"""Offset paging: has_more, page sizes, the _skip cap, and date_created windows past it."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from closecsv.close.paging import KNOWN_LIMITS, EndpointLimits, Window
from closecsv.errors import ApiError

BASE = "https://api.close.test/api/v1/"
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class FakeList:
    """A Close list endpoint: caps like Close's, and an order unrelated to ``date_created``."""

    items: list[dict[str, Any]]
    max_skip: int = 250_000
    max_limit: int = 100
    omit_has_more: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append(params)
        skip, limit = int(params.get("_skip", 0)), int(params.get("_limit", 100))
        if limit > self.max_limit:
            message = f"Input should be less than or equal to {self.max_limit}"
            return httpx.Response(400, json={"errors": [], "field-errors": {"_limit": message}})
        if skip > self.max_skip:
            return httpx.Response(400, json={"error": _max_skip_message(self.max_skip)})
        chosen = [o for o in self.items if _within(o, params)]
        chosen.sort(key=lambda o: hashlib.sha1(o["id"].encode()).hexdigest())
        body: dict[str, Any] = {"data": chosen[skip : skip + limit]}
        if not self.omit_has_more:
            body["has_more"] = skip + limit < len(chosen)
        return httpx.Response(200, json=body)

    def largest_skip(self) -> int:
        return max(int(p.get("_skip", 0)) for p in self.requests)


def _max_skip_message(cap: int) -> str:
    return (
        "The skip you set is larger than the maximum skip for this resource "
        f"(max_skip = {cap}). Please refine your search query."
    )


def _within(obj: dict[str, Any], params: dict[str, str]) -> bool:
    created = datetime.fromisoformat(obj["date_created"])
    gte, lt = params.get("date_created__gte"), params.get("date_created__lt")
    return (gte is None or created >= datetime.fromisoformat(gte)) and (
        lt is None or created < datetime.fromisoformat(lt)
    )


def _activities(
    n: int, step: timedelta = timedelta(hours=1), ties: int = 1
) -> list[dict[str, Any]]:
    """``n`` activities; every ``ties`` of them share one ``date_created``."""
    return [
        {"id": f"acti_{i:04d}", "date_created": (START + step * (i // ties)).isoformat()}
        for i in range(n)
    ]


def _serve(httpx_mock: HTTPXMock, fake: FakeList) -> FakeList:
    httpx_mock.add_callback(fake, is_reusable=True)
    return fake


def _ids(objs: Any) -> Counter[str]:
    return Counter(o["id"] for o in objs)


# -- plain paging ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["activity/custom/", "custom_field/activity/", "lead/"])
def test_pages_follow_has_more(httpx_mock: HTTPXMock, make_client: Any, path: str) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(5)))
    found = list(make_client().paginate(path, {"lead_id": "lead_1"}, page_size=2))
    assert _ids(found) == _ids(fake.items)
    cap = make_client().limits_for(path).max_skip
    # first page, the cap probe, then the rest
    assert [(p["_skip"], p["_limit"]) for p in fake.requests] == [
        ("0", "2"),
        (str(cap), "1"),
        ("2", "2"),
        ("4", "2"),
    ]
    assert all(p["lead_id"] == "lead_1" for p in fake.requests)


def test_one_page_needs_no_probe(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(3)))
    assert len(list(make_client().paginate("activity/custom/", {"lead_id": "l"}))) == 3
    assert len(fake.requests) == 1


def test_a_missing_has_more_means_last_page(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(5), omit_has_more=True))
    assert len(list(make_client().paginate("custom_object_type/", page_size=2))) == 2
    assert len(fake.requests) == 1


def test_a_refused_limit_is_halved_and_remembered(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(60), max_limit=25))
    client = make_client()
    assert _ids(client.paginate("activity/custom/")) == _ids(fake.items)
    assert [p["_limit"] for p in fake.requests[:3]] == ["100", "50", "25"]
    assert client.limits_for("activity/custom/").max_limit == 25


@pytest.mark.parametrize(
    ("path", "page_size", "sent"),
    [("lead/", 500, "200"), ("lead/", None, "200"), ("activity/custom/", 500, "100")],
)
def test_page_size_stays_within_the_endpoint_maximum(
    httpx_mock: HTTPXMock, make_client: Any, path: str, page_size: int | None, sent: str
) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(1)))
    list(make_client().paginate(path, page_size=page_size))
    assert fake.requests[0]["_limit"] == sent


def test_limit_in_params_is_the_page_size(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(1)))
    list(make_client().paginate("activity/custom/", {"_limit": 7}))
    assert fake.requests[0]["_limit"] == "7"


def test_skip_is_the_pagers_business(make_client: Any) -> None:
    with pytest.raises(ValueError, match="sets _skip itself"):
        make_client().paginate("activity/custom/", {"_skip": 10})


# -- caps and windows ------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"skip_caps": {"activity/custom/": 50}}, {"max_skip": 50}],
    ids=["skip_caps", "max_skip"],
)
@pytest.mark.parametrize("ties", [1, 7])
def test_past_the_cap_windows_yield_every_item_once(
    httpx_mock: HTTPXMock, make_client: Any, options: dict[str, Any], ties: int
) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(230, ties=ties), max_skip=50))
    found = list(make_client(**options).paginate("activity/custom/", page_size=20))
    assert _ids(found) == _ids(fake.items)  # each exactly once
    assert fake.largest_skip() <= 50
    windows = {(p.get("date_created__gte"), p.get("date_created__lt")) for p in fake.requests}
    assert len(windows) > 5


def test_windows_stay_inside_the_callers_range(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(400), max_skip=30))
    lo, hi = START + timedelta(hours=100), START + timedelta(hours=300)
    params = {"date_created__gte": lo.isoformat(), "date_created__lt": hi.isoformat()}
    client = make_client(skip_caps={"activity/custom/": 30})
    found = list(client.paginate("activity/custom/", params, page_size=25))
    assert _ids(found) == _ids(fake.items[100:300])
    for p in fake.requests:
        assert datetime.fromisoformat(p["date_created__gte"]) >= lo
        assert datetime.fromisoformat(p["date_created__lt"]) <= hi


def test_the_apis_max_skip_lowers_the_cap(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeList(_activities(150), max_skip=40))
    client = make_client(skip_caps={"activity/custom/": 100})
    assert _ids(client.paginate("activity/custom/", page_size=30)) == _ids(fake.items)
    assert client.limits_for("activity/custom/").max_skip == 40


def test_a_capped_list_that_cannot_be_windowed_fails_before_yielding(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    _serve(httpx_mock, FakeList(_activities(60), max_skip=20))
    pages = make_client(skip_caps={"lead/": 20}).paginate("lead/", page_size=10)
    with pytest.raises(
        ApiError, match=r"lead/: the list is longer than Close's _skip cap of 20"
    ) as info:
        next(pages)
    assert "search()" in str(info.value)


def test_too_many_in_one_second_is_an_error(httpx_mock: HTTPXMock, make_client: Any) -> None:
    _serve(httpx_mock, FakeList(_activities(80, ties=80), max_skip=50))
    pages = make_client(max_skip=50).paginate("activity/custom/", page_size=20)
    with pytest.raises(ApiError, match=r"more than 50 objects have date_created in \[2024-01-01"):
        list(pages)


def test_the_cap_table() -> None:
    assert KNOWN_LIMITS["lead/"] == EndpointLimits(max_limit=200, max_skip=35_000, windowable=False)
    assert KNOWN_LIMITS["activity/custom/"].windowable


# -- windows ---------------------------------------------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "parts"),
    [
        (
            Window(T0, T0 + timedelta(days=2)),
            [
                Window(T0, T0 + timedelta(days=1)),
                Window(T0 + timedelta(days=1), T0 + timedelta(days=2)),
            ],
        ),
        (
            Window(T0, T0 + timedelta(seconds=3)),
            [
                Window(T0, T0 + timedelta(seconds=1)),
                Window(T0 + timedelta(seconds=1), T0 + timedelta(seconds=3)),
            ],
        ),
        (Window(T0, T0 + timedelta(seconds=1)), None),
        (Window(None, None), [Window(None, EPOCH), Window(EPOCH, None)]),
        (Window(None, EPOCH), None),
        (Window(None, T0), [Window(None, EPOCH), Window(EPOCH, T0)]),
        (Window(T0, None), [Window(T0, NOW + (NOW - EPOCH)), Window(NOW + (NOW - EPOCH), None)]),
    ],
)
def test_window_split(window: Window, parts: list[Window] | None) -> None:
    assert window.split(NOW) == parts


def test_window_params_and_caller_bounds() -> None:
    window = Window.from_params(
        {"date_created__gte": "2024-01-01", "date_created__lt": "2024-02-01T00:00:00Z"}
    )
    assert window.params() == {
        "date_created__gte": "2024-01-01T00:00:00+00:00",
        "date_created__lt": "2024-02-01T00:00:00+00:00",
    }
    with pytest.raises(ValueError, match="not an ISO 8601"):
        Window.from_params({"date_created__gte": "last tuesday"})
