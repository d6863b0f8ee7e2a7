"""``closecsv leads`` reads emails and phones from a lead's contacts, so a lead whose
``primary_email`` / ``primary_phone`` are ``ContactEmail`` / ``ContactPhone`` objects (Close's
schema, and the sandbox's answer) and one where they are bare strings (as older answers and
other tools showed) list the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from closecsv.close.listing import list_leads

CONTACT = {
    "id": "cont_1",
    "emails": [{"email": "ada@example.org", "type": "office", "is_unsubscribed": False}],
    "phones": [{"phone": "+14155550100", "type": "office", "country": "US"}],
}
OBJECTS = {"primary_email": CONTACT["emails"][0], "primary_phone": CONTACT["phones"][0]}
STRINGS = {"primary_email": "ada@example.org", "primary_phone": "+14155550100"}


class OneLead:
    def __init__(self, primary: Mapping[str, Any]) -> None:
        self.lead = {"id": "lead_1", "display_name": "Acme", "contacts": [CONTACT], **primary}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise AssertionError("list_leads only searches")

    def post(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]:
        return {"data": [self.lead], "cursor": None}


@pytest.mark.parametrize("primary", [OBJECTS, STRINGS, {}], ids=["objects", "strings", "absent"])
def test_leads_are_listed_alike_whatever_form_primary_fields_take(
    primary: Mapping[str, Any],
) -> None:
    assert list_leads(OneLead(primary), None, 10) == [
        {"id": "lead_1", "name": "Acme", "emails": ["ada@example.org"], "phones": ["+14155550100"]}
    ]
