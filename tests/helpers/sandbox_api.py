"""Reading the sandbox's seed over HTTP: type ids, field keys, leads."""

from __future__ import annotations

from typing import Any

import httpx


def type_id(api: httpx.Client, name: str) -> str:
    types = api.get("custom_activity/").json()["data"]
    return next(t["id"] for t in types if t["name"] == name)


def object_type_id(api: httpx.Client, name: str) -> str:
    types = api.get("custom_object_type/").json()["data"]
    return next(t["id"] for t in types if t["name"] == name)


def field_keys(api: httpx.Client, kind: str, tid: str) -> dict[str, str]:
    fields = api.get(f"custom_field_schema/{kind}/{tid}/").json()["fields"]
    return {f["name"]: f"custom.{f['id']}" for f in fields}


def leads(api: httpx.Client) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get("lead/", params={"_limit": 200}).json()["data"]
    return sorted(data, key=lambda lead: lead["date_created"])
