"""What the journal holds for one input row (:class:`Entry`) and what a request writes
(:class:`Written`), as :mod:`closecsv.importing.journal` stores them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

State = Literal["in_flight", "done", "failed", "unknown", "undone"]


@dataclass(frozen=True)
class Written:
    """What a request writes, journaled before it goes out: ``previous`` (an update: each
    field's value before it, as the API gave it), ``written`` (the body), ``changes`` and
    ``target`` (an update's instance)."""

    previous: Mapping[str, Any] | None = None
    written: Mapping[str, Any] | None = None
    changes: str | None = None
    target: str | None = None  # an update: the instance it goes to (--key: the one matched)

    def columns(self) -> dict[str, str | None]:
        found = {
            "previous": _dumped(self.previous),
            "written": _dumped(self.written),
            "changes": self.changes,
        }
        return found if self.target is None else {**found, "instance_id": self.target}


def _dumped(values: Mapping[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(dict(values), default=str)


@dataclass(frozen=True)
class Entry:
    """What the journal knows about one input row (``row``: where it was last seen)."""

    row: int
    state: State
    status: str | None = None  # done rows: created / updated / unchanged
    instance_id: str | None = None
    lead_id: str | None = None
    error: str | None = None
    attempt_start: float | None = None  # wall-clock seconds (time.time()) of the last send
    attempts: int = 0
    previous_json: str | None = None  # an update: the values it replaced (:class:`Written`)
    written_json: str | None = None  # the body of the last send
    changes: str | None = None  # an update: its ``_changes``
    date_updated: str | None = None  # the instance's, in Close's answer

    def previous(self) -> dict[str, Any] | None:
        """The values the row's update replaced (None: not recorded)."""
        return None if self.previous_json is None else dict(json.loads(self.previous_json))

    def written(self) -> dict[str, Any] | None:
        """The body the row's last request sent (None: not recorded)."""
        return None if self.written_json is None else dict(json.loads(self.written_json))

    @property
    def needs_reconcile(self) -> bool:
        """A send may have reached Close without its answer reaching us."""
        return self.state in ("in_flight", "unknown")

    @property
    def may_have_created(self) -> bool:
        """Close may hold an instance this row created."""
        return self.needs_reconcile or (self.state == "done" and self.status == "created")
