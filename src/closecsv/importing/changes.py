"""The ``_changes`` cell of an update row: what its PUT changes, as a person reads it.

Each changed field is ``Field: old -> new``, items joined by `` | ``, in the order the row's
columns were planned.  ``Field`` is the column as ``export`` names it (``custom.<Field Name>``
for a custom field, the API name for a standard one such as ``note``), so the text reads
the same as a file exported from Close.  ``old`` and ``new`` are the text a user would type in
that cell: numbers without a spurious ``.0``, several choices joined by the import's
multi-value separator, users as their email address, dates and date-times as Close stores
them (ISO 8601); an empty value (never set, or cleared) is shown as nothing, so
``custom.Notes:  -> hello`` sets a field and ``custom.Notes: hello -> `` clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from closecsv.close.schema import FieldInfo
from closecsv.files.cells import number_to_cell

SEPARATOR = " | "
Emails = Callable[[], Mapping[str, str]]  # user id -> email, loaded only when a user changes


def describe(
    body: Mapping[str, Any],
    before: Mapping[str, Any],
    field_of: Callable[[str], FieldInfo],
    multi_separator: str,
    emails: Emails | None = None,
) -> str:
    """``Field: old -> new`` for each key of ``body`` (the new values), ``before`` holding the
    values the instance had; ``field_of`` gives a key's field (its name and type)."""
    items = []
    for key, new in body.items():
        fld = field_of(key)
        label = f"custom.{fld.name}" if key.startswith("custom.") else key
        old_text = as_text(fld, before.get(key), multi_separator, emails)
        new_text = as_text(fld, new, multi_separator, emails)
        items.append(f"{label}: {old_text} -> {new_text}")
    return SEPARATOR.join(items)


def as_text(fld: FieldInfo, value: Any, sep: str, emails: Emails | None = None) -> str:
    """An API value as the cell a user would type (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return sep.join(_scalar(fld, v, emails) for v in value)
    return _scalar(fld, value, emails)


def _scalar(fld: FieldInfo, value: Any, emails: Emails | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_cell(value)
    if fld.type == "user" and emails is not None:
        return emails().get(str(value), str(value))
    return str(value)
