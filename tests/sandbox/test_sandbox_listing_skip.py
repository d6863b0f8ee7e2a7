"""Deep ``_skip`` on activity lists: cut from the sorted index, same pages as a filtered walk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

ALL_TIME = {"activity_at__gte": "1990-01-01T00:00:00+00:00"}  # a filter every activity passes


@pytest.fixture
def org() -> Sandbox:
    sb = Sandbox()
    sb.populate(leads=40, activities=730, activity_types=2)
    return sb


def pages(api: httpx.Client, path: str, extra: dict[str, Any]) -> list[tuple[list[str], bool]]:
    out = []
    for skip in range(0, 900, 100):
        body = api.get(path, params={"_skip": skip, "_limit": 100, **extra}).json()
        out.append(([a["id"] for a in body["data"]], body["has_more"]))
    return out


def newest_first(sb: Sandbox) -> list[str]:
    acts = sb.state.custom_activities.values()
    return [a["id"] for a in sorted(acts, key=lambda a: (a["date_created"], a["id"]), reverse=True)]


@pytest.mark.parametrize("path", ["activity/custom/", "activity/"])
def test_skip_pages_follow_the_order_and_has_more_is_exact(org: Sandbox, path: str) -> None:
    with httpx.Client(
        transport=org.transport(),
        base_url="http://sandbox.test/api/v1/",
        auth=(SANDBOX_API_KEY, ""),
    ) as api:
        plain = pages(api, path, {})
        assert plain == pages(api, path, ALL_TIME)
        ids = newest_first(org)
        assert [i for page, _ in plain for i in page] == ids
        assert [more for _, more in plain] == [skip + 100 < len(ids) for skip in range(0, 900, 100)]
        first = api.get(path, params={"_skip": 0, "_limit": 1}).json()["data"][0]
        assert first["user_name"]  # the page is rendered
        victim = ids[250]
        assert api.delete(f"activity/custom/{victim}/").status_code == 200
        after = pages(api, path, {})
        assert after == pages(api, path, ALL_TIME)
        assert [i for page, _ in after for i in page] == [i for i in ids if i != victim]
        tail = api.get(path, params={"_skip": len(ids) - 1, "_limit": 100}).json()
        assert tail == {"data": [], "has_more": False}
