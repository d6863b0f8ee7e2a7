"""Lookup indexes for search: built on first use, then kept in step with every write.

Each index maps a key to the ids of the objects of one collection that carry it:

- ``contact_email`` / ``contact_phone``: a contact's e-mail addresses / phone numbers,
  lower-cased as ``exact_value`` text conditions compare them;
- ``lead_words``: the words of a lead's display name, as ``full_words`` / ``phrase`` split them;
- ``activity_type`` / ``object_type``: an instance's type id.

:class:`State` calls :meth:`Indexes.changed` on every ``put``/``delete`` (with the old and new
object) and :meth:`Indexes.reset` when it rebuilds; an index nobody has asked for yet costs
nothing.  Indexes are never persisted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

Obj = dict[str, Any]
Keyer = Callable[[Obj], Iterable[str]]


def words(value: Any) -> list[str]:
    """Lower-cased words of a value, as text conditions split them."""
    return re.findall(r"\w+", str(value).lower())


def _values(value: Any) -> list[Any]:
    """A field's values as conditions see them: a list's items, never ``None``."""
    return [v for v in (value if isinstance(value, list) else [value]) if v is not None]


def display_name(lead: Obj) -> Any:
    """The value a ``display_name`` condition reads on a lead."""
    return lead.get("display_name") if "display_name" in lead else lead.get("name")


def _sub_values(key: str, name: str) -> Keyer:
    def keys(obj: Obj) -> Iterable[str]:
        return {str(v).lower() for sub in obj.get(key) or [] for v in _values(sub.get(name))}

    return keys


def _name_words(lead: Obj) -> Iterable[str]:
    return {w for v in _values(display_name(lead)) for w in words(v)}


def _field(name: str) -> Keyer:
    def keys(obj: Obj) -> Iterable[str]:
        return {v for v in _values(obj.get(name)) if isinstance(v, str)}

    return keys


KEYERS: dict[str, tuple[str, Keyer]] = {
    "contact_email": ("contacts", _sub_values("emails", "email")),
    "contact_phone": ("contacts", _sub_values("phones", "phone")),
    "lead_words": ("leads", _name_words),
    "activity_type": ("custom_activities", _field("custom_activity_type_id")),
    "object_type": ("custom_objects", _field("custom_object_type_id")),
}
_EMPTY: frozenset[str] = frozenset()


class Indexes:
    """The built indexes of one org (see the module docstring)."""

    def __init__(self, collections: Callable[[], dict[str, dict[str, Obj]]]) -> None:
        self._collections = collections
        self._built: dict[str, defaultdict[str, set[str]]] = {}

    def lookup(self, name: str, key: str) -> frozenset[str] | set[str]:
        """Ids of the objects whose ``name`` keys include ``key``."""
        index = self._built.get(name)
        if index is None:
            index = self._build(name)
        return index.get(key, _EMPTY)

    def _build(self, name: str) -> defaultdict[str, set[str]]:
        coll, keyer = KEYERS[name]
        index: defaultdict[str, set[str]] = defaultdict(set)
        for oid, obj in self._collections()[coll].items():
            for key in keyer(obj):
                index[key].add(oid)
        self._built[name] = index
        return index

    def changed(self, coll: str, old: Obj | None, new: Obj | None) -> None:
        """Keep the built indexes over ``coll`` in step with one write."""
        for name, index in self._built.items():
            owner, keyer = KEYERS[name]
            if owner != coll:
                continue
            if old is not None:
                for key in keyer(old):
                    bucket = index.get(key)
                    if bucket is not None:
                        bucket.discard(old["id"])
                        if not bucket:
                            del index[key]
            if new is not None:
                for key in keyer(new):
                    index[key].add(new["id"])

    def reset(self) -> None:
        self._built.clear()
