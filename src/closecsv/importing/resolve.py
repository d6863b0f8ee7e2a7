"""Leads, users, contacts and custom objects, looked up in batches and cached
(README: "CSV format").

Leads: each row's identifier is the first given of ``lead_id``, ``lead_email``,
``lead_phone``, ``lead_name`` (that precedence).  The *unique* identifiers of each sort are
OR'ed into a few ``POST data/search/`` queries (``CHUNK`` values each) that also bring back
each lead's contacts; matches are verified client-side (emails case-insensitively, phones in
E.164 via ``phonenumbers``, names exactly), so Close's word-based search never decides
alone.  Never one request per row: 300 unique emails cost 2 searches.

Users: ``GET me/`` (the default user and the organization), then the organization with its
active *and inactive* memberships expanded; a user is found by id, email or full name, in any
case (an exact-case name wins; :func:`closecsv.importing.values.lookup`).  Custom objects: one
``GET custom_object/`` per (lead, object type) that a row needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import polars as pl

from closecsv.close.api import ReadApi
from closecsv.close.users import UserDirectory, Users

CHUNK = 150
LEAD_FIELDS = ["id", "display_name", "name", "contacts"]
SOURCES = ("lead_id", "lead_email", "lead_phone", "lead_name")
LEAD_ID, LEAD_ERROR = "__closecsv_lead_id", "__closecsv_lead_error"
ANSWERS = pl.Schema(
    {"__src": pl.String(), "__val": pl.String(), LEAD_ID: pl.String(), LEAD_ERROR: pl.String()}
)


def e164(value: str, region: str) -> str | None:
    """``value`` as an E.164 phone number, or ``None`` when it is not a valid number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _or(queries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "or", "queries": queries}


def _lead_query(inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "and", "queries": [{"type": "object_type", "object_type": "lead"}, inner]}


def _text(object_type: str, name: str, value: str, mode: str) -> dict[str, Any]:
    return {
        "type": "field_condition",
        "field": {"type": "regular_field", "object_type": object_type, "field_name": name},
        "condition": {"type": "text", "mode": mode, "value": value},
    }


def _via_contact(related: str, name: str, values: Sequence[str]) -> dict[str, Any]:
    inner = {
        "type": "has_related",
        "this_object_type": "contact",
        "related_object_type": related,
        "related_query": _or([_text(related, name, v, "exact_value") for v in values]),
    }
    return {
        "type": "has_related",
        "this_object_type": "lead",
        "related_object_type": "contact",
        "related_query": inner,
    }


QUERIES: dict[str, Callable[[Sequence[str]], dict[str, Any]]] = {
    "lead_id": lambda vs: _or([{"type": "id", "value": v} for v in vs]),
    "lead_email": lambda vs: _via_contact("contact_email", "email", vs),
    "lead_phone": lambda vs: _via_contact("contact_phone", "phone", vs),
    "lead_name": lambda vs: _or([_text("lead", "display_name", v, "phrase") for v in vs]),
}


@dataclass
class Resolver:
    """Batched, cached look-ups against the API for one import plan."""

    client: ReadApi
    default_region: str = "US"
    on_ambiguous: str = "fail"
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    _found: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    _objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    directory: UserDirectory = field(init=False)
    default_user: str | None = None  # the job's, when a journal recorded it (several keys)

    def __post_init__(self) -> None:
        self.directory = UserDirectory(self.client)

    _answers: pl.DataFrame | None = None  # ANSWERS of every identifier resolved so far

    # -- leads ------------------------------------------------------------------------

    def normalise(self, source: str, value: str) -> str | None:
        """The comparable form of an identifier (``None``: not a valid phone number)."""
        value = value.strip()
        if source == "lead_email":
            return value.lower()
        if source == "lead_phone":
            return e164(value, self.default_region)
        return value

    def find_leads(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Look up every (source, normalised value) not seen yet, in OR'ed batches."""
        todo: dict[str, list[str]] = {}
        for source, key in wanted:
            if (source, key) not in self._found:
                todo.setdefault(source, []).append(key)
        for source, keys in todo.items():
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                results = self.client.search(
                    _lead_query(QUERIES[source](chunk)), {"lead": LEAD_FIELDS}
                )
                self._remember(source, chunk, results)

    def _remember(self, source: str, keys: Sequence[str], results: list[dict[str, Any]]) -> None:
        for key in keys:
            self._found[(source, key)] = []
        for lead in results:
            self.leads[str(lead["id"])] = lead
            for key in self._keys_of(source, lead):
                hits = self._found.get((source, key))
                if hits is not None and lead["id"] not in hits:
                    hits.append(str(lead["id"]))

    def _keys_of(self, source: str, lead: Mapping[str, Any]) -> set[str]:
        contacts = lead.get("contacts") or []
        if source == "lead_id":
            return {str(lead["id"])}
        if source == "lead_email":
            return {str(e["email"]).lower() for c in contacts for e in c.get("emails") or []}
        if source == "lead_phone":
            phones = (
                e164(str(p["phone"]), self.default_region)
                for c in contacts
                for p in c.get("phones") or []
            )
            return {p for p in phones if p}
        return {str(lead.get("display_name") or lead.get("name") or "")}

    def lead_for(self, source: str, raw: str, key: str | None) -> tuple[str | None, str | None]:
        """``(lead id, None)`` or ``(None, reason)`` for one identifier."""
        if key is None:
            return (
                None,
                f"{source} {raw!r} is not a valid phone number (use E.164, e.g. +16505551234)",
            )
        hits = self._found.get((source, key), [])
        if not hits:
            return None, f"no lead has {source.removeprefix('lead_')} {raw!r}"
        if len(hits) > 1 and self.on_ambiguous != "first":
            listed = ", ".join(hits[:5])
            return None, (
                f"{source} {raw!r} matches {len(hits)} leads ({listed}); "
                "use lead_id, or --on-ambiguous first"
            )
        return hits[0], None

    def resolve_leads(self, frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
        """``LEAD_ID`` and ``LEAD_ERROR`` per row of ``frame``, in its order (null when the
        row has no identifier)."""
        given = [(s, columns[s]) for s in SOURCES if s in columns]
        if not given:
            return frame.with_columns(
                pl.lit(None, pl.String).alias(LEAD_ID), pl.lit(None, pl.String).alias(LEAD_ERROR)
            )
        source = pl.coalesce(*(pl.when(pl.col(c).is_not_null()).then(pl.lit(s)) for s, c in given))
        value = pl.coalesce(*(pl.col(c) for _, c in given))
        keyed = frame.with_columns(source.alias("__src"), value.alias("__val"))
        pairs = keyed.select("__src", "__val").drop_nulls().unique()
        if self._answers is not None:  # a later table of the same file: only new identifiers
            pairs = pairs.join(self._answers, on=["__src", "__val"], how="anti")
        normal = {(s, v): self.normalise(s, v) for s, v in pairs.rows()}
        self.find_leads((s, k) for (s, _), k in normal.items() if k is not None)
        answers = [(s, v, *self.lead_for(s, v, k)) for (s, v), k in normal.items()]
        table = pl.DataFrame(answers, schema=ANSWERS, orient="row")
        self._answers = table if self._answers is None else pl.concat([self._answers, table])
        out = keyed.join(
            self._answers,
            on=["__src", "__val"],
            how="left",
            nulls_equal=False,
            maintain_order="left",
        )
        return out.drop("__src", "__val")

    # -- contacts and custom objects ----------------------------------------------------

    def contact_table(self) -> dict[tuple[str, str], str]:
        """``(lead id, key) -> contact id`` for the leads seen; keys: id, lower-case email."""
        table: dict[tuple[str, str], str] = {}
        for lead_id, lead in self.leads.items():
            for contact in lead.get("contacts") or []:
                table[(lead_id, str(contact["id"]))] = str(contact["id"])
                for email in contact.get("emails") or []:
                    key = (lead_id, str(email["email"]).lower())
                    table[key] = (
                        "" if table.get(key, contact["id"]) != contact["id"] else str(contact["id"])
                    )
        return table

    def object_table(self, needs: Iterable[tuple[str, str]]) -> dict[tuple[str, str, str], str]:
        """``(lead id, object type id, key) -> object id``; keys: id and exact name."""
        table: dict[tuple[str, str, str], str] = {}
        for lead_id, type_id in sorted(set(needs)):
            if (lead_id, type_id) not in self._objects:
                params = {"lead_id": lead_id, "custom_object_type_id": type_id}
                self._objects[(lead_id, type_id)] = list(
                    self.client.paginate("custom_object/", params)
                )
            for obj in self._objects[(lead_id, type_id)]:
                table[(lead_id, type_id, str(obj["id"]))] = str(obj["id"])
                key = (lead_id, type_id, str(obj.get("name", "")))
                table[key] = "" if table.get(key, obj["id"]) != obj["id"] else str(obj["id"])
        return table

    # -- users --------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The API key's own user, with its ``organizations`` (one request, cached)."""
        return self.directory.me()

    def organization(self) -> str:
        """The id of the API key's organization."""
        return self.directory.organization()

    def default_user_id(self) -> str:
        """The user of the rows without a ``user`` cell: the one the job's journal recorded
        at its first run, else the first API key's own user."""
        return self.default_user or self.users().me

    def users(self) -> Users:
        """Every user of the organization, active or not (two requests, cached)."""
        return self.directory.users()
