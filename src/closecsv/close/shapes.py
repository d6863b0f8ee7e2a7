"""The shapes closecsv relies on in Close's answers, checked where the answers come in.

Close adds fields over time, so every model keeps what it does not name (``extra="allow"``)
and only the fields closecsv reads are checked:

* a create or update answer carries the object's ``id`` as a non-empty string
  (:class:`WriteAnswer`; the client treats an answer without one as a write whose outcome is
  unknown, never as a success);
* ``GET me/`` names the key's user and at least one organization (:class:`Me`);
* an offset-paged list holds its ``data`` list of objects (:class:`ListPage`), a search page
  the same plus its ``cursor`` (:class:`SearchPage`);
* a type list (``GET custom_activity/``, ``GET custom_object_type/``) holds objects with an
  ``id`` (:class:`TypeList`), and a type's field schema (``GET custom_field_schema/…``) its
  ``fields``, each with an ``id`` and a ``name`` (:class:`FieldSchema`).

:func:`require` turns a wrong shape into one :class:`ApiError` (exit 3) naming the endpoint
and the missing or wrong field, instead of a ``KeyError`` deep in the caller.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from closecsv.errors import ApiError

M = TypeVar("M", bound=BaseModel)
_KINDS = {type(None): "null", dict: "an object", list: "a list", str: "text"}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class WriteAnswer(_Answer):
    """The object a create (POST) or update (PUT) gives back."""

    id: StrictStr = Field(min_length=1)


class _OrgRef(_Answer):
    id: StrictStr = Field(min_length=1)


class Me(_Answer):
    """``GET me/``: the key's user and its organizations."""

    id: StrictStr = Field(min_length=1)
    organizations: list[_OrgRef] = Field(min_length=1)


def _objects(items: list[Any]) -> list[dict[str, Any]]:
    """The list itself (not a copy: pages are read in bulk) once every item is an object."""
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"item {number} is {_KINDS.get(type(item), 'not an object')}")
    return items


Objects = Annotated[list[Any], AfterValidator(_objects)]


class ListPage(_Answer):
    """One page of an offset-paged list (``_skip``/``_limit``)."""

    data: Objects
    has_more: bool | None = False


class SearchPage(_Answer):
    """One page of ``POST data/search/``; ``cursor`` is empty on the last page."""

    data: Objects
    cursor: StrictStr | None = None


class TypeEntry(_Answer):
    """One custom activity or custom object type; its ``name`` defaults to its id."""

    id: StrictStr = Field(min_length=1)
    name: StrictStr | None = None
    description: StrictStr | None = None
    is_archived: bool | None = False


class TypeList(_Answer):
    """``GET custom_activity/`` or ``GET custom_object_type/``: every type of one kind."""

    data: list[TypeEntry]


class FieldDef(_Answer):
    """One field of a type's schema; the optional settings read by ``schema.FieldInfo``."""

    id: StrictStr = Field(min_length=1)
    name: StrictStr = Field(min_length=1)
    type: StrictStr = "text"
    accepts_multiple_values: bool | None = False
    required: bool | None = False
    choices: list[StrictStr | int | float] | None = None
    referenced_custom_type_id: StrictStr | None = None
    is_shared: bool | None = False
    description: StrictStr | None = None


class FieldSchema(_Answer):
    """``GET custom_field_schema/<kind>/<type id>/``: the type's regular and shared fields."""

    fields: list[FieldDef]


def problem(model: type[BaseModel], body: Any) -> str | None:
    """What is wrong with ``body`` as a ``model`` (one line), or ``None`` when it fits."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return describe(exc)
    return None


def require(model: type[M], body: Any, where: str) -> M:
    """``body`` as a ``model``; a wrong shape is an :class:`ApiError` naming ``where``."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            f"{where}: the answer does not have the shape Close gives ({describe(exc)})",
            hint="check that --api-url / CLOSE_API_URL points at the Close API "
            "(e.g. https://api.close.com/api/v1/); if it does, the API changed: "
            "try again later",
        ) from None


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error: the field's path, and what is wrong there.

    The value itself is shown only when it is short and not a string (``null``, a number):
    the text of an answer could echo anything.
    """
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return f"no '{where}' field"
    value = first.get("input")
    shown = _KINDS.get(type(value), "a value of another kind")
    if isinstance(value, bool | int | float):
        shown = repr(value)
    elif value == "":
        shown = "an empty string"
    if not where:
        return f"the answer is {shown}, not an object"
    reason = first["msg"].removeprefix("Value error, ")
    return f"'{where}' is {shown}: {reason[:1].lower()}{reason[1:]}"
