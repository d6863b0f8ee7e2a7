"""What a file can refer to: the organization's users and its leads (``closecsv users`` and
``closecsv leads``), as rows for a table or JSON.

Users come the way the importer resolves a ``user`` cell: the API key's own user and the
organization's active *and* inactive memberships (``GET me/``, ``GET organization/{id}/``), with
the same full name a cell may use.  Leads come newest first from Close's lead search
(``POST data/search/``, with a full-text ``text`` node for a query, ``results_limit`` for the
limit), each with its contacts' emails and phones: the values ``lead_id``, ``lead_name``,
``lead_email``, ``lead_phone`` and ``contact`` cells take.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from closecsv.close.api import SearchApi
from closecsv.close.search import SEARCH_MAX_LIMIT, SEARCH_PATH
from closecsv.close.users import UserDirectory, full_name

LEAD_FIELDS = ["id", "display_name", "contacts"]
USER_COLUMNS = ("id", "name", "email", "status")
LEAD_COLUMNS = ("id", "name", "emails", "phones")


def list_users(api: SearchApi) -> list[dict[str, Any]]:
    """Every user a ``user`` cell can name: id, full name, email, active or inactive."""
    directory = UserDirectory(api)
    me = directory.me()
    found: dict[str, dict[str, Any]] = {}
    for status, users in directory.members().items():
        for user in users:
            found.setdefault(str(user.get("id")), _user(user, status))
    found.setdefault(str(me.get("id")), _user(me, "active"))
    return sorted(found.values(), key=lambda u: (u["status"], u["name"].casefold(), u["id"]))


def _user(user: Mapping[str, Any], status: str) -> dict[str, Any]:
    return {
        "id": str(user.get("id")),
        "name": full_name(user),
        "email": str(user.get("email") or ""),
        "status": status,
    }


def list_leads(api: SearchApi, query: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` leads, newest first; only those matching ``query`` when given.

    One Advanced Filtering search (``results_limit``), cursor pages until ``limit`` leads."""
    queries: list[dict[str, Any]] = [{"type": "object_type", "object_type": "lead"}]
    if query and query.strip():
        queries.append({"type": "text", "mode": "full_words", "value": query.strip()})
    newest = {"type": "regular_field", "object_type": "lead", "field_name": "date_created"}
    body: dict[str, Any] = {
        "query": {"type": "and", "queries": queries},
        "_fields": {"lead": LEAD_FIELDS},
        "sort": [{"direction": "desc", "field": newest}],
        "_limit": min(limit, SEARCH_MAX_LIMIT),
        "results_limit": limit,
    }
    found: list[dict[str, Any]] = []
    cursor = None
    while len(found) < limit:
        answer = api.post(SEARCH_PATH, body if cursor is None else {**body, "cursor": cursor})
        found += [d for d in answer.get("data") or [] if isinstance(d, dict)]
        cursor = answer.get("cursor")
        if not cursor:
            break
    return [_lead(lead) for lead in found[:limit]]


def _lead(lead: Mapping[str, Any]) -> dict[str, Any]:
    # Emails and phones come from the contacts, never from ``primary_email`` /
    # ``primary_phone``: Close's schema makes those ``ContactEmail`` / ``ContactPhone`` objects
    # (or null), older answers and other tools have shown bare strings, and neither form is
    # needed when every contact's addresses are read.
    contacts = [c for c in lead.get("contacts") or [] if isinstance(c, dict)]
    return {
        "id": str(lead.get("id")),
        "name": str(lead.get("display_name") or lead.get("name") or ""),
        "emails": _values(contacts, "emails", "email"),
        "phones": _values(contacts, "phones", "phone"),
    }


def _values(contacts: Iterable[Mapping[str, Any]], key: str, name: str) -> list[str]:
    out: dict[str, None] = {}
    for contact in contacts:
        for item in contact.get(key) or []:
            if isinstance(item, dict) and item.get(name):
                out[str(item[name])] = None
    return list(out)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Aligned columns under a header; list cells joined with ``; ``."""

    def cell(value: Any) -> str:
        return "; ".join(value) if isinstance(value, list) else str(value)

    lines = [list(columns)] + [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
