"""Leads, users and contacts are looked up in a few batched requests against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.importing.resolve import LEAD_ERROR, LEAD_ID, Resolver, e164
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.transports import Counting

COLUMNS = {s: s for s in ("lead_id", "lead_email", "lead_phone", "lead_name")}


@pytest.fixture
def transport(sandbox: Sandbox) -> Counting:
    return Counting(sandbox.transport())


@pytest.fixture
def client(transport: Counting) -> Iterator[CloseClient]:
    url = "http://sandbox.local/api/v1/"
    with CloseClient(ApiKey(SANDBOX_API_KEY), url, transport=transport) as c:
        yield c


def _frame(**columns: list[str | None]) -> pl.DataFrame:
    size = max(len(v) for v in columns.values())
    data = {c: columns.get(c, [None] * size) for c in COLUMNS}
    return pl.DataFrame(data, schema={c: pl.String for c in COLUMNS})


def _answers(resolver: Resolver, frame: pl.DataFrame) -> list[tuple[str | None, str | None]]:
    return resolver.resolve_leads(frame, COLUMNS).select(LEAD_ID, LEAD_ERROR).rows()


def test_300_unique_emails_cost_two_searches(
    sandbox: Sandbox, client: CloseClient, transport: Counting
) -> None:
    real = sorted({e["email"] for c in sandbox.state.contacts.values() for e in c["emails"]})
    emails = real + [f"missing{i}@example.com" for i in range(300 - len(real))]
    rows = [emails[i % 300] for i in range(2000)]
    found = _answers(Resolver(client), _frame(lead_email=rows))
    assert transport.count("data/search/") == 2
    assert sum(lead is not None for lead, _ in found) > 0
    assert found[len(real)] == (None, "no lead has email 'missing0@example.com'")


def test_lookups_are_cached_between_calls(client: CloseClient, transport: Counting) -> None:
    resolver = Resolver(client)
    _answers(resolver, _frame(lead_name=["Acme Corp"]))
    _answers(resolver, _frame(lead_name=["Acme Corp", "Acme Corp"]))
    assert transport.count("data/search/") == 1


def test_email_any_case_phone_in_any_format_and_exact_name(
    sandbox: Sandbox, client: CloseClient
) -> None:
    contact = next(iter(sandbox.state.contacts.values()))
    lead = contact["lead_id"]
    email, phone = contact["emails"][0]["email"], contact["phones"][0]["phone"]
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"  # US numbers in the seed
    name = sandbox.state.leads[lead]["name"]
    frame = _frame(lead_email=[email.upper(), None, None], lead_phone=[None, national, None],
                   lead_name=[None, None, name])  # fmt: skip
    assert _answers(Resolver(client), frame) == [(lead, None)] * 3


def test_precedence_is_id_then_email_then_phone_then_name(
    sandbox: Sandbox, client: CloseClient
) -> None:
    lead = next(iter(sandbox.state.leads))
    frame = _frame(lead_id=[lead], lead_email=["nobody@example.com"], lead_name=["Globex"])
    assert _answers(Resolver(client), frame) == [(lead, None)]


def test_ambiguous_name_fails_unless_first_is_asked_for(client: CloseClient) -> None:
    [(lead, error)] = _answers(Resolver(client), _frame(lead_name=["Globex"]))
    assert lead is None and error is not None
    assert error.startswith("lead_name 'Globex' matches 2 leads (")
    assert error.endswith("use lead_id, or --on-ambiguous first")
    [(lead, error)] = _answers(Resolver(client, on_ambiguous="first"), _frame(lead_name=["Globex"]))
    assert lead is not None and error is None


def test_shared_email_is_ambiguous(client: CloseClient) -> None:
    [(lead, error)] = _answers(Resolver(client), _frame(lead_email=["shared@example.net"]))
    assert lead is None and "matches 2 leads" in (error or "")


def test_invalid_phone_fails_without_a_request(client: CloseClient, transport: Counting) -> None:
    [(lead, error)] = _answers(Resolver(client), _frame(lead_phone=["12"]))
    assert (lead, error) == (
        None,
        "lead_phone '12' is not a valid phone number (use E.164, e.g. +16505551234)",
    )
    assert transport.count("data/search/") == 0


def test_name_search_is_verified_client_side(client: CloseClient) -> None:
    [(lead, error)] = _answers(Resolver(client), _frame(lead_name=["Acme"]))
    assert lead is None and error == "no lead has name 'Acme'"


def test_users_include_inactive_ones_in_two_requests(
    client: CloseClient, transport: Counting
) -> None:
    users = Resolver(client).users()
    assert users.by_key["alan@example.com"] == users.by_key["Alan Turing"]
    assert users.by_key["ada@example.com"] == users.me
    assert users.email_by_id[users.me] == "ada@example.com"
    assert len(transport.calls) == 2


def test_contacts_by_id_and_email_on_the_resolved_lead(
    sandbox: Sandbox, client: CloseClient
) -> None:
    contact = next(iter(sandbox.state.contacts.values()))
    resolver = Resolver(client)
    _answers(resolver, _frame(lead_id=[contact["lead_id"]]))
    table = resolver.contact_table()
    assert table[(contact["lead_id"], contact["id"])] == contact["id"]
    assert table[(contact["lead_id"], contact["emails"][0]["email"].lower())] == contact["id"]


def test_objects_one_request_per_lead_and_type(
    sandbox: Sandbox, client: CloseClient, transport: Counting
) -> None:
    obj = next(iter(sandbox.state.custom_objects.values()))
    need = (obj["lead_id"], obj["custom_object_type_id"])
    table = Resolver(client).object_table([need, need])
    assert table[(*need, obj["name"])] == obj["id"] == table[(*need, obj["id"])]
    assert transport.count("custom_object/") == 1


@pytest.mark.parametrize(
    ("raw", "region", "want"),
    [("+1 415-555-1000", "US", "+14155551000"), ("(415) 555-1000", "US", "+14155551000"),
     ("020 7946 0000", "GB", "+442079460000"), ("abc", "US", None)],
)  # fmt: skip
def test_phones_normalise_to_e164(raw: str, region: str, want: str | None) -> None:
    assert e164(raw, region) == want
