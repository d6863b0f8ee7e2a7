"""API values as export cells: numbers without ``.0``, multi-values joined by the separator,
users as their email addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from closecsv.close.schema import FieldInfo
from closecsv.files.cells import number_to_cell


def _scalar_to_cell(fld: FieldInfo, value: Any, users_by_id: Mapping[str, str]) -> str:
    if fld.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return number_to_cell(value)
    if fld.type == "user":
        return users_by_id.get(str(value), str(value))
    return str(value)


def api_to_cell(fld: FieldInfo, value: Any, users_by_id: Mapping[str, str], sep: str) -> str:
    """An API value as a cell: numbers without ``.0``, lists joined by ``sep``, users as emails."""
    if value is None:
        return ""
    if isinstance(value, list):
        return sep.join(_scalar_to_cell(fld, v, users_by_id) for v in value)
    return _scalar_to_cell(fld, value, users_by_id)
