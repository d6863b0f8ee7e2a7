"""Indexed search answers exactly what the general evaluator answers, before and after writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox
from closecsv.sandbox.search import matches
from closecsv.sandbox.search_index import COLLS, select
from closecsv.sandbox.state import State

ACT = "activity.custom_activity"


def cond(otype: str, name: str, condition: dict[str, Any]) -> dict[str, Any]:
    field = {"type": "regular_field", "object_type": otype, "field_name": name}
    return {"type": "field_condition", "field": field, "condition": condition}


def text(otype: str, name: str, value: str, mode: str = "exact_value") -> dict[str, Any]:
    return cond(otype, name, {"type": "text", "mode": mode, "value": value})


def related(this: str, other: str, query: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "has_related", "this_object_type": this, "related_object_type": other,
        "related_query": query,
    }  # fmt: skip


def either(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"type": "or", "queries": list(queries)}


def both(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"type": "and", "queries": list(queries)}


def general(state: State, query: dict[str, Any], otype: str) -> set[str]:
    objs = state.collections[COLLS[otype]]
    return {i for i, obj in objs.items() if matches(state, query, otype, obj)}


def indexed(state: State, query: dict[str, Any], otype: str) -> set[str]:
    found = select(state, query, otype, matches)
    assert found is not None, query
    return found


def queries(state: State) -> list[tuple[str, dict[str, Any]]]:
    """Recognised shapes over the current org (values taken from it, plus misses)."""
    contacts = sorted(state.contacts.values(), key=lambda c: c["id"])
    emails = [e["email"] for c in contacts[:12] for e in c["emails"]] + ["nobody@example.org"]
    phones = [p["phone"] for c in contacts[5:9] for p in c["phones"]] + ["+15550000000"]
    acts = sorted(state.custom_activities.values(), key=lambda a: a["id"])
    types = sorted({a["custom_activity_type_id"] for a in acts})
    lead_ids = [*sorted(state.leads)[:7], "lead_missing"]
    by_email = either(*(text("contact_email", "email", e) for e in emails))
    by_email_upper = either(*(text("contact_email", "email", e.upper()) for e in emails[:3]))
    since = {"type": "fixed_utc", "value": acts[3]["date_created"]}
    window = cond(ACT, "date_created", {"type": "moment_range", "on_or_after": since})
    lead = {"type": "object_type", "object_type": "lead"}
    names = ("Globex", "globex 2")
    by_contact = related("lead", "contact", related("contact", "contact_email", by_email))
    of_type = cond(ACT, "custom_activity_type_id", {"type": "term", "values": types[-1:]})
    return [
        ("lead", both(lead, by_contact)),
        ("lead", related("lead", "contact_email", by_email_upper)),
        ("contact", related("contact", "contact_phone", either(*(
            text("contact_phone", "phone", p) for p in phones)))),
        ("lead", related("lead", "contact", related("contact", "contact_phone",
                                                    text("contact_phone", "phone", phones[0])))),
        ("lead", either(*(text("lead", "display_name", n, "phrase") for n in names))),
        ("lead", text("lead", "display_name", "GLOBEX", "exact_value")),
        ("lead", both(lead, either(*({"type": "id", "value": i} for i in lead_ids)))),
        (ACT, cond(ACT, "custom_activity_type_id", {"type": "term", "values": types[:1]})),
        (ACT, cond(ACT, "lead_id", {"type": "reference", "object_ids": lead_ids})),
        (ACT, both(cond(ACT, "custom_activity_type_id", {"type": "term", "values": types}),
                   {**window, "negate": True})),
        ("lead", both(lead, related("lead", ACT, both(of_type, window)))),
        ("lead", related("lead", "custom_object", {"type": "match_all"})),
        (ACT, related(ACT, "lead", text("lead", "display_name", "Globex", "full_words"))),
        ("custom_object", cond("custom_object", "custom_object_type_id", {
            "type": "term", "values": sorted(state.object_types)})),
    ]  # fmt: skip


def check_all(state: State) -> None:
    for otype, query in queries(state):
        assert indexed(state, query, otype) == general(state, query, otype), query


def test_indexed_and_general_agree_on_the_seed_org(sandbox: Sandbox) -> None:
    check_all(sandbox.state)
    assert len(indexed(sandbox.state, queries(sandbox.state)[0][1], "lead")) >= 10


def test_unrecognised_shapes_fall_back(sandbox: Sandbox) -> None:
    state = sandbox.state
    full_text = {"type": "text", "value": "Globex"}
    negated = {**text("lead", "display_name", "Globex"), "negate": True}
    for query in (full_text, negated, either(full_text, {"type": "id", "value": "x"})):
        assert select(state, query, "lead", matches) is None


def test_indexes_follow_writes(sandbox: Sandbox, api: httpx.Client) -> None:
    state = sandbox.state
    check_all(state)  # builds every index first, so the writes below must update them
    types = sorted({a["custom_activity_type_id"] for a in state.custom_activities.values()})
    lead_id = sorted(state.leads)[2]
    victim = sorted(state.custom_activities)[0]
    body = {"custom_activity_type_id": types[0], "lead_id": lead_id, "status": "draft"}
    created = api.post("activity/custom/", json=body)
    assert created.status_code == 200, created.text
    assert api.delete(f"activity/custom/{victim}/").status_code == 200
    contact = dict(sorted(state.contacts.values(), key=lambda c: c["id"])[0])
    contact["emails"] = [{"type": "office", "email": "Renamed@Example.org"}]
    state.put("contacts", contact)
    lead = {**state.leads[lead_id], "name": "Globex Renamed"}
    state.put("leads", lead)
    check_all(state)
    moved = related("lead", "contact_email", text("contact_email", "email", "renamed@example.ORG"))
    assert indexed(state, moved, "lead") == {contact["lead_id"]}
    term = cond(ACT, "custom_activity_type_id", {"type": "term", "values": types[:1]})
    assert created.json()["id"] in indexed(state, term, ACT)
    assert victim not in indexed(
        state, cond(ACT, "lead_id", {"type": "reference", "object_ids": sorted(state.leads)}), ACT
    )


@pytest.fixture
def big() -> Sandbox:
    sb = Sandbox()
    sb.populate(leads=2000, activities=4000, activity_types=2)
    return sb


def test_email_search_over_2k_leads(big: Sandbox) -> None:
    state = big.state
    owners = {e["email"]: c["lead_id"] for c in state.contacts.values() for e in c["emails"]}
    emails = sorted(owners)[::9][:200]
    inner = related(
        "contact", "contact_email", either(*(text("contact_email", "email", e) for e in emails))
    )
    query = both({"type": "object_type", "object_type": "lead"}, related("lead", "contact", inner))
    with httpx.Client(
        transport=big.transport(),
        base_url="http://sandbox.test/api/v1/",
        auth=("sandbox-key-0000000000000000", ""),
    ) as api:
        body = api.post("data/search/", json={"query": query, "_limit": 200}).json()
    found = {row["id"] for row in body["data"]}
    assert found == {owners[e] for e in emails} | {
        c["lead_id"] for c in state.contacts.values() for e in c["emails"] if e["email"] in emails
    }
    assert indexed(state, query, "lead") == general(state, query, "lead")
