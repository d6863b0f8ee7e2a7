"""Every list endpoint of the sandbox pages the way Close's documents and clients say.

- Lists documented with ``_skip``/``_limit`` page with them and an exact ``has_more``; walking
  one a page of 1 at a time gives every item once, in the order of one big page.
- ``custom_activity/`` and ``custom_field/shared/`` are documented without paging ("list
  all"): every item in one answer, with ``has_more: false``, so that a client paging
  ``while has_more`` stops (Close's ``clone_organization.py`` pages ``custom_field/shared/``
  with ``_skip`` and crashed on the missing key).
- ``custom_object_type/`` and ``custom_field/custom_object_type/`` were seen on Close answering
  ``data`` alone, without ``has_more``: the sandbox answers the same.
- ``custom_field/lead/``, ``/contact/`` and ``/opportunity/`` are empty pages: the sandbox org
  has no custom fields there.
- ``event/`` pages by cursor (``cursor_next`` / ``cursor_previous``), not by offset; its paging
  is tested in test_sandbox_events.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox

_SB = Sandbox()
LEAD = next(iter(_SB.state.custom_activities.values()))["lead_id"]
OBJ_LEAD = next(iter(_SB.state.custom_objects.values()))["lead_id"]
PAGED: list[tuple[str, dict[str, str]]] = [
    ("user/", {}),
    ("lead/", {}),
    ("contact/", {}),
    ("contact/", {"lead_id": LEAD}),
    ("custom_field/activity/", {}),
    ("activity/", {}),
    ("activity/custom/", {}),
    ("custom_object/", {"lead_id": OBJ_LEAD}),
]
LIST_ALL = ["custom_activity/", "custom_field/shared/"]
NO_HAS_MORE = ["custom_object_type/", "custom_field/custom_object_type/"]
# Close has custom fields on leads, contacts and opportunities; the sandbox org has none
# (Airbyte's connector reads these lists to build its schemas)
EMPTY = ["custom_field/lead/", "custom_field/contact/", "custom_field/opportunity/"]
CURSOR_PAGED = ["event/"]


def _walk(api: httpx.Client, path: str, params: dict[str, str], size: int) -> list[str]:
    ids: list[str] = []
    skip = 0
    while True:
        page = api.get(path, params={**params, "_skip": str(skip), "_limit": str(size)})
        assert page.status_code == 200, page.text
        body = page.json()
        assert isinstance(body["has_more"], bool)
        assert len(body["data"]) <= size
        ids += [item["id"] for item in body["data"]]
        if not body["has_more"]:
            return ids
        assert len(body["data"]) == size  # has_more is exact: a full page before the end
        skip += size


@pytest.mark.parametrize(("path", "params"), PAGED, ids=[f"{p} {q}" for p, q in PAGED])
def test_offset_lists_page_with_an_exact_has_more(
    api: httpx.Client, path: str, params: dict[str, str]
) -> None:
    whole = api.get(path, params={**params, "_limit": "100"}).json()
    assert whole["has_more"] is False and whole["data"]
    everything = [item["id"] for item in whole["data"]]
    assert _walk(api, path, params, 1) == everything
    past = api.get(path, params={**params, "_skip": str(len(everything)), "_limit": "5"})
    assert past.json() == {"data": [], "has_more": False}
    bad = api.get(path, params={**params, "_limit": "-1"})
    assert bad.status_code == 400 and "_limit" in bad.json()["field-errors"]


@pytest.mark.parametrize("path", LIST_ALL)
def test_list_all_endpoints_answer_everything_with_has_more_false(
    api: httpx.Client, path: str
) -> None:
    first = api.get(path).json()
    assert first["has_more"] is False and first["data"]
    # a client paging with _skip/_limit (as Close's clone script does) stops after one page
    paged = api.get(path, params={"_skip": "0", "_limit": "1"}).json()
    assert paged == first
    fields = api.get(path, params={"_fields": "id,name"}).json()["data"]
    assert all(set(item) == {"id", "name"} for item in fields)


@pytest.mark.parametrize("path", NO_HAS_MORE)
def test_object_type_lists_answer_data_alone_as_close_does(api: httpx.Client, path: str) -> None:
    body: dict[str, Any] = api.get(path).json()
    assert list(body) == ["data"] and body["data"]


@pytest.mark.parametrize("path", EMPTY)
def test_record_field_lists_are_empty_pages(api: httpx.Client, path: str) -> None:
    assert api.get(path, params={"_limit": "10"}).json() == {"data": [], "has_more": False}


def test_every_list_route_is_in_one_of_the_tables() -> None:
    listed = {path for path, _params in PAGED} | set(LIST_ALL) | set(NO_HAS_MORE) | set(EMPTY)
    listed |= set(CURSOR_PAGED)
    lists = {
        pattern.pattern
        for pattern, methods in _SB.dispatcher.routes
        if "GET" in methods and "(" not in pattern.pattern and pattern.pattern != "me/"
    }
    assert lists == listed
