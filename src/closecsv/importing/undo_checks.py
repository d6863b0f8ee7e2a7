"""Whether an undo item can be sent: gone, finished by a request whose answer was lost, or
changed by someone else since the import (a ``conflict``, with what differs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from closecsv.close.kinds import Kind
from closecsv.files.moments import parse_iso
from closecsv.importing.changes import as_text
from closecsv.importing.reconcile import IMMUTABLE, Fields
from closecsv.importing.undo_plan import Item

Decided = tuple[str, str | None] | None  # (status, error) settled without a request, or None
SEP = ";"  # joins several values in a conflict message (a choice list, users)


class Checker:
    def __init__(self, kind: Kind, fields: Fields) -> None:
        self.kind, self.fields = kind, fields

    def decide(self, item: Item, found: Mapping[str, Any] | None, force: bool) -> Decided:
        """``None``: send the item's request; else its status and error, without a request."""
        if found is None:  # deleted by our own request whose answer was lost, or by another
            ours = item.in_flight and item.action == "delete"
            return ("deleted" if ours else "already_gone"), None
        if item.in_flight and item.action == "restore" and self._holds(found, item.previous):
            return "restored", None  # our PUT reached Close; its answer did not reach us
        if force:
            return None
        differences = self.differences(item, found)
        if differences:
            return "conflict", "changed in Close after the import: " + "; ".join(differences)
        return None

    def differences(self, item: Item, found: Mapping[str, Any]) -> list[str]:
        """``Field: written X, now Y`` for each field the import wrote that holds another value,
        and the dates when the instance was saved again after the import's last write."""
        type_id = found.get(self.kind.type_id_key)
        skip = {self.kind.type_id_key, *IMMUTABLE}
        lines = []
        for key, wrote in item.written.items():
            now = found.get(key)
            if key in skip or self.fields.same(type_id, key, wrote, now):
                continue
            fld = self.fields.of(type_id, key)
            label = f"custom.{fld.name}" if key.startswith("custom.") else key
            lines.append(f"{label}: written {_shown(fld, wrote)}, now {_shown(fld, now)}")
        later = _later(found.get("date_updated"), item.date_updated)
        if later and not lines:
            lines.append(
                f"date_updated: {found.get('date_updated')}, after the import's "
                f"{item.date_updated} (edited since, perhaps back to the same values)"
            )
        return lines

    def _holds(self, found: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        type_id = found.get(self.kind.type_id_key)
        return all(self.fields.same(type_id, k, v, found.get(k)) for k, v in values.items())


def _shown(fld: Any, value: Any) -> str:
    text = as_text(fld, value, SEP)
    return repr(text) if text else "(empty)"


def _later(now: Any, then: str | None) -> bool:
    """``now`` (the instance's ``date_updated``) is after ``then`` (the import's answer)."""
    if not isinstance(now, str) or then is None:
        return False
    try:
        return parse_iso(now) > parse_iso(then)
    except ValueError:
        return now != then
