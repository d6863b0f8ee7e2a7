"""Leads and contacts as Close answers them (the ``Lead`` and ``Contact`` schemas of Close's
OpenAPI document): every field of those schemas the sandbox can give truthfully, with the type
and nullability the schema gives it.

- ``primary_email`` / ``primary_phone`` are the first ``ContactEmail`` / ``ContactPhone``
  object of the lead's contacts (oldest contact first), not a bare string; ``null`` when there
  is none.
- Lists of things the sandbox has none of (addresses, opportunities, tasks, calls,
  integration links, subscriptions, summaries) are ``[]``; values derived from them
  (``localtime``, ``primary_address_summary``, a contact's ``timezone``) are ``null``.
- ``created_by_name`` / ``updated_by_name`` are the users' full names (``null`` for an
  unknown user).

Left out, because the sandbox cannot give them as Close would: a lead's
``contacts_summary`` (Close's wording is not documented) and ``source``; a contact's
``lead_suggestions_operation_id``.  docs/SANDBOX.md lists them.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

LEAD_EMPTY: Obj = {
    "addresses": [],
    "integration_links": [],
    "opportunities": [],
    "recent_calls": [],
    "summaries": [],
    "tasks": [],
    "localtime": None,
    "primary_address_summary": None,
    "description": "",
    "url": None,
}
CONTACT_EMPTY: Obj = {
    "integration_links": [],
    "recent_calls": [],
    "subscriptions": [],
    "urls": [],
    "emails": [],
    "phones": [],
    "timezone": None,
    "timezone_source": None,
    "title": None,
}
EMAIL_EMPTY: Obj = {"type": "office", "is_unsubscribed": False}
PHONE_EMPTY: Obj = {
    "type": "office",
    "country": None,
    "outbound_sms_blocked": False,
    "tz_ids": [],
}


def _filled(stored: Obj, empty: Obj) -> Obj:
    """``stored`` with every key of ``empty`` it lacks (a fresh copy of each empty value)."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in empty.items()}
    out.update(stored)
    return out


def contact_email(email: Obj) -> Obj:
    return _filled(email, EMAIL_EMPTY)


def contact_phone(phone: Obj) -> Obj:
    out = _filled(phone, PHONE_EMPTY)
    out.setdefault("phone_formatted", out.get("phone", ""))
    return out


def contact_shape(contact: Obj) -> Obj:
    out = _filled(contact, CONTACT_EMPTY)
    out["emails"] = [contact_email(e) for e in out["emails"]]
    out["phones"] = [contact_phone(p) for p in out["phones"]]
    return out


def lead_shape(lead: Obj, contacts: list[Obj], names: dict[str, str | None]) -> Obj:
    """``lead`` with its rendered ``contacts`` (oldest first); ``names`` maps the lead's
    ``created_by`` / ``updated_by`` user ids to full names."""
    out = _filled(lead, LEAD_EMPTY)
    out["contacts"] = contacts
    out["contact_ids"] = [c["id"] for c in contacts]
    emails = [e for c in contacts for e in c["emails"]]
    phones = [p for c in contacts for p in c["phones"]]
    out["primary_email"] = emails[0] if emails else None
    out["primary_phone"] = phones[0] if phones else None
    out["created_by_name"] = names.get(lead.get("created_by") or "")
    out["updated_by_name"] = names.get(lead.get("updated_by") or "")
    out["html_url"] = f"https://app.close.com/lead/{lead['id']}/"
    return out
