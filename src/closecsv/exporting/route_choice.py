"""Which route an export reads by, and why (one line for stderr and the manifest).

- ``lead`` / ``org``: as asked; their costs are estimated for the message.
- ``search``: a probe first (:func:`closecsv.exporting.search_route.probe_search`); when its
  answer is not what the route needs, an :class:`ApiError` (exit 3) saying what was wrong.
- ``auto``: the search route when the probe verified it (it is the cheapest: 200 wanted
  instances per request, against at most 100 on the documented routes); otherwise the
  cheaper documented route by :func:`closecsv.exporting.routes.estimate` (with
  ``--lead-query``, the lead route), the message saying why the search was not taken.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

from closecsv.close.api import SearchApi
from closecsv.errors import ApiError
from closecsv.exporting.routes import LIST_PAGE, SEARCH_PAGE, Estimate, Scope, estimate
from closecsv.exporting.search_route import Probe, probe_search, search_cost

Strategy = Literal["auto", "lead", "org", "search"]
ROUTES: tuple[str, ...] = ("lead", "org", "search")
_FALLBACK = "export with --strategy auto (it falls back to the documented routes), lead or org"


def choose_route(
    api: SearchApi, scope: Scope, leads: int, strategy: Strategy
) -> tuple[str, Estimate]:
    """The route for ``scope`` and the estimate behind it (``reason`` says why)."""
    if strategy in ("lead", "org"):
        return strategy, replace(estimate(api, scope, leads), reason=f"--strategy {strategy}")
    probe = _probe(api, scope)
    if strategy == "search":
        if not probe.usable:
            raise ApiError(
                f"--strategy search: the search route does not work here: {probe.reason}",
                hint=_FALLBACK,
            )
        return "search", _searched(scope, leads, probe, "--strategy search; " + probe.reason)
    if probe.verified:
        return "search", _searched(scope, leads, probe, probe.reason)
    guess = estimate(api, scope, leads)
    route = "lead" if scope.lead_query is not None else guess.cheaper
    why = f"the search route was not used: {probe.reason}; the {route} route is cheaper"
    if scope.lead_query is not None:
        why = f"the search route was not used: {probe.reason}; --lead-query reads by lead"
    return route, replace(guess, reason=why)


def _probe(api: SearchApi, scope: Scope) -> Probe:
    if not scope.fields:
        return Probe(False, False, "the export named no fields for it")
    return probe_search(api, scope)


def _searched(scope: Scope, leads: int, probe: Probe, reason: str) -> Estimate:
    """The estimate for the search route, from the probe's count (no extra request): the
    org-wide route reads at least every wanted instance, 100 per request."""
    search = math.ceil(leads / SEARCH_PAGE)
    wanted = probe.wanted or 0
    lead_cost = search + max(leads, math.ceil(wanted / LIST_PAGE))
    org_floor = search + math.ceil(wanted / LIST_PAGE)
    cost = search + search_cost(scope, leads, probe.wanted)
    return Estimate(leads, probe.wanted, None, lead_cost, org_floor, cost, reason)


def describe(route: str, guess: Estimate) -> str:
    """One line: the route, why, and the estimated requests of each route."""
    wanted = "?" if guess.wanted is None else str(guess.wanted)
    costs = [f"lead route {guess.lead_cost}"]
    floor = guess.scanned is None and guess.search_cost is not None  # not counted: a floor
    costs.append(f"org-wide route {'at least ' if floor else ''}{guess.org_cost}")
    if guess.search_cost is not None:
        costs.append(f"search route {guess.search_cost}")
    return (
        f"route: {route} ({guess.reason}; estimated requests: {', '.join(costs)}; "
        f"{guess.leads} leads, {wanted} wanted instances)"
    )
