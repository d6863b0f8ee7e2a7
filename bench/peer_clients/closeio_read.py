"""Close's official Python client (``closeio``) reads every custom activity and custom object.

Run by ``bench/peers.py`` in the peers' virtual environment.  The client takes its base URL as
an argument (``API(base_url, api_key=...)``), so nothing is patched.  Activities are paged
org-wide through ``GET activity/custom/`` with ``_skip``/``_limit`` (the client appends the
trailing slash itself); objects are read per type through ``POST data/search/`` with a cursor,
asking in ``_fields`` for every field of the type.
"""

from __future__ import annotations

from typing import Any

from close_url import Output, arguments
from closeio_api import API

OBJECT_KEYS = ["id", "name", "lead_id", "custom_object_type_id", "date_created", "date_updated"]
OBJECT_KEYS += ["created_by", "updated_by"]


def activities(api: API, out: Output) -> None:
    skip = 0
    while True:
        page = api.get("activity/custom", params={"_skip": skip, "_limit": 100})
        for record in page["data"]:
            out.write("activity", record)
        skip += len(page["data"])
        if not page.get("has_more"):
            return


def objects_of(api: API, type_: dict[str, Any], out: Output) -> None:
    term = {"type": "term", "values": [type_["id"]]}
    field = {"type": "regular_field", "field_name": "custom_object_type_id"}
    query = {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "custom_object"},
            {"type": "field_condition", "field": field, "condition": term},
        ],
    }
    keys = OBJECT_KEYS + [f"custom.{f['id']}" for f in type_["fields"]]
    body: dict[str, Any] = {"query": query, "_limit": 200, "_fields": {"custom_object": keys}}
    while True:
        page = api.post("data/search", data=body)
        for record in page["data"]:
            out.write("object", record)
        if not page.get("cursor"):
            return
        body = {**body, "cursor": page["cursor"]}


def main() -> None:
    base, key, path = arguments()
    api = API(base, api_key=key, tz_offset="0")
    out = Output(path)
    activities(api, out)
    for type_ in api.get("custom_object_type")["data"]:
        objects_of(api, type_, out)
    out.close()


if __name__ == "__main__":
    main()
