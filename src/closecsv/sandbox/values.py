"""Validation of custom field values, as Close documents it per field type
(docs/CLOSE_API.md, Custom fields and values).

``number`` JSON number (or a numeric string, converted); ``date`` ``YYYY-MM-DD``; ``datetime``
ISO 8601 with an offset, stored in UTC; ``choices`` one of the field's choices, exactly (a list
of them when the field accepts multiple values); ``user`` user ids, active or inactive, or an
exact full name converted to the id; ``contact`` ids of the lead's contacts; ``custom_object``
ids of the lead's objects of the referenced type; ``text``/``textarea`` strings; ``hidden`` any
JSON value.  ``null`` clears a field.  Errors are keyed by the submitted key
(``custom.cf_…``), which is inferred, not documented (docs/CLOSE_API.md, Errors).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from closecsv.sandbox.errors import ApiFailure, field_error
from closecsv.sandbox.state import State

Obj = dict[str, Any]


class Invalid(ValueError):
    """A value a field refuses; the message goes into ``field-errors``."""


def parse_datetime(text: Any) -> datetime:
    """An ISO 8601 date-time with an offset (``Z`` allowed); naive values are refused."""
    if not isinstance(text, str):
        raise Invalid("Enter a valid date/time.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("Enter a valid date/time.") from exc
    if moment.tzinfo is None:
        raise Invalid("Enter a valid date/time with a timezone offset.")
    return _utc(moment)


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one whose UTC form falls outside years 1-9999 is invalid."""
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise Invalid("Enter a valid date/time between the years 1 and 9999.") from exc


def parse_bound(text: Any) -> datetime:
    """A list filter bound: a date (midnight UTC) or a date-time (naive means UTC)."""
    if not isinstance(text, str):
        raise Invalid("Enter a valid date/time.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise Invalid("Enter a valid date/time.") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else _utc(moment)


def _number(value: Any, _ctx: Context) -> Any:
    if isinstance(value, bool):
        raise Invalid("A valid number is required.")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError as exc:
        raise Invalid("A valid number is required.") from exc
    if not math.isfinite(number):
        raise Invalid("A valid number is required.")
    return int(number) if number.is_integer() and "." not in str(value) else number


def _date(value: Any, _ctx: Context) -> Any:
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else _bad_date()
    except ValueError as exc:
        raise Invalid("Enter a valid date (YYYY-MM-DD).") from exc


def _bad_date() -> str:
    raise Invalid("Enter a valid date (YYYY-MM-DD).")


def _datetime(value: Any, _ctx: Context) -> Any:
    return parse_datetime(value).isoformat()


def _text(value: Any, _ctx: Context) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid("Enter a valid text value.")
    return str(value)


def _hidden(value: Any, _ctx: Context) -> Any:
    return value


class Context:
    """What reference checks need: the org, the lead, and the field being set."""

    def __init__(self, state: State, lead_id: str, field: Obj) -> None:
        self.state = state
        self.lead_id = lead_id
        self.field = field


def _choice(value: Any, ctx: Context) -> Any:
    if value not in ctx.field.get("choices", []):
        raise Invalid(f"{value!r} is not a valid choice.")
    return value


def _user(value: Any, ctx: Context) -> Any:
    users = ctx.state.users
    if isinstance(value, str) and value in users:
        return value
    for user in users.values():
        if value == f"{user['first_name']} {user['last_name']}":
            return user["id"]
    raise Invalid(f"User {value!r} does not exist.")


def _contact(value: Any, ctx: Context) -> Any:
    contact = ctx.state.contacts.get(value) if isinstance(value, str) else None
    if contact is None or contact["lead_id"] != ctx.lead_id:
        raise Invalid(f"Contact {value!r} does not exist on this lead.")
    return value


def _custom_object(value: Any, ctx: Context) -> Any:
    obj = ctx.state.custom_objects.get(value) if isinstance(value, str) else None
    wanted = ctx.field.get("referenced_custom_type_id")
    if obj is None or obj["lead_id"] != ctx.lead_id or obj["custom_object_type_id"] != wanted:
        raise Invalid(f"Custom object {value!r} of the referenced type is not on this lead.")
    return value


CONVERTERS: dict[str, Callable[[Any, Context], Any]] = {
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "text": _text,
    "textarea": _text,
    "hidden": _hidden,
    "choices": _choice,
    "user": _user,
    "contact": _contact,
    "custom_object": _custom_object,
}


def convert(value: Any, ctx: Context) -> Any:
    """The stored form of ``value`` for ``ctx.field``, or :class:`Invalid`."""
    conv = CONVERTERS[ctx.field["type"]]
    if not ctx.field.get("accepts_multiple_values"):
        if isinstance(value, list):
            raise Invalid("This field does not accept multiple values.")
        return conv(value, ctx)
    items = value if isinstance(value, list) else [value]
    return [conv(item, ctx) for item in items]


def custom_keys(body: Obj) -> dict[str, Any]:
    """Flat ``custom.cf_…`` keys, plus OpenAPI's ``custom_fields`` object if given."""
    found = {k: v for k, v in body.items() if k.startswith("custom.")}
    extra = body.get("custom_fields")
    if isinstance(extra, dict):
        found.update({f"custom.{k}": v for k, v in extra.items()})
    return found


def field_out(field: Obj) -> Obj:
    """A field definition as Close answers it: ``referenced_custom_type_id`` on every field,
    ``null`` unless the field references a custom object type."""
    return {"referenced_custom_type_id": None, **field}


def field_for_type(state: State, fid: str, type_id: str) -> Obj:
    """The full definition of ``fid`` as it applies to ``type_id`` (shared: per association)."""
    field = field_out(state.fields[fid])
    for assoc in field.get("associations", []):
        if type_id in (assoc.get("custom_activity_type_id"), assoc.get("custom_object_type_id")):
            field["required"] = assoc["required"]
            field["editable_with_roles"] = assoc["editable_with_roles"]
    return field


def apply_custom(target: Obj, body: Obj, state: State, lead_id: str, typ: Obj) -> None:
    """Validate every ``custom.…`` key of ``body`` and set/clear it on ``target``."""
    allowed = set(typ["field_ids"])
    errors: dict[str, str] = {}
    for key, value in custom_keys(body).items():
        fid = key.removeprefix("custom.")
        if fid not in allowed:
            errors[key] = "Unknown custom field for this type."
            continue
        if value is None or value == [] or value == "":
            target.pop(key, None)
            continue
        try:
            target[key] = convert(
                value, Context(state, lead_id, field_for_type(state, fid, typ["id"]))
            )
        except Invalid as exc:
            errors[key] = str(exc)
    if errors:
        raise ApiFailure(400, {"errors": [], "field-errors": errors})


def required_ids(state: State, typ: Obj) -> list[str]:
    return [f for f in typ["field_ids"] if field_for_type(state, f, typ["id"])["required"]]


def check_required(obj: Obj, required_ids: list[str]) -> None:
    missing = {
        f"custom.{fid}": "This field is required."
        for fid in required_ids
        if obj.get(f"custom.{fid}") in (None, "", [])
    }
    if missing:
        raise ApiFailure(400, {"errors": [], "field-errors": missing})


def require_datetime(body: Obj, key: str) -> str | None:
    """``body[key]`` as a stored UTC timestamp, or None when absent."""
    if body.get(key) is None:
        return None
    try:
        return parse_datetime(body[key]).isoformat(timespec="microseconds")
    except Invalid as exc:
        raise field_error(key, str(exc)) from exc
