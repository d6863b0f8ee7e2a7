"""The executor against the sandbox: planned rows made by hand, a counting transport, one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, Kind
from closecsv.close.schema import Schema, TypeInfo
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.job import Job
from closecsv.importing.report import OUTCOME_SCHEMA, ImportReport
from closecsv.importing.report_files import Dialect
from closecsv.progress import NullProgress
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.transports import Counting

LEADS = ["lead_a", "lead_b"]


@dataclass(frozen=True)
class Row:
    row: int
    action: str
    payload: Mapping[str, Any]
    type_id: str | None = None
    instance_id: str | None = None
    lead_id: str | None = None
    cells: Mapping[str, str] = field(default_factory=dict)
    clear: frozenset[str] = frozenset()
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    kind: Kind
    source: Path
    rows: list[Row]
    columns: list[str] = field(default_factory=lambda: ["note"])
    fingerprint: str = "fp-1"
    warnings: list[str] = field(default_factory=list)
    lookups: int = 0
    organization: str | None = None
    default_user: str | None = None  # the journal records the real plan's
    dialect: Dialect = field(default_factory=Dialect)

    def pending(self, dry_run: bool) -> list[Row]:
        return self.rows

    def job(self) -> Job:
        """Rows known by their planned content (a real plan hashes the cells as read)."""
        hashes = {
            r.row: repr((r.action, sorted(r.payload.items()), r.instance_id)) for r in self.rows
        }
        return Job({"kind": self.kind.name}, hashes, self.fingerprint)

    def settled(self, dry_run: bool) -> pl.DataFrame:
        return pl.DataFrame(schema=OUTCOME_SCHEMA)

    @property
    def cells(self) -> pl.DataFrame:
        lines = [(r.row, *(r.cells.get(c, "") for c in self.columns)) for r in self.rows]
        return pl.DataFrame(lines, schema=["row", *self.columns], orient="row")


@dataclass
class Env:
    sandbox: Sandbox
    client: CloseClient
    transport: Counting
    schema: Schema
    tmp: Path

    def info(self, kind: Kind, name: str) -> TypeInfo:
        return self.schema.find(kind, name)

    def key(self, kind: Kind, type_name: str, field_name: str) -> str:
        found = self.info(kind, type_name).field_for_column(f"custom.{field_name}")
        assert found is not None
        return found.api_key

    def run(self, plan: Plan, **settings: Any) -> ImportReport:
        plan.source.touch()
        opts = SendSettings(settle_seconds=0.0, **settings)
        return execute_plan(self.client, self.schema, plan, opts, NullProgress())

    def leads(self) -> list[str]:
        return sorted(self.sandbox.state.leads)[:2]


def make_env(tmp: Path, **sandbox_opts: Any) -> Env:
    sandbox = Sandbox(**sandbox_opts)
    transport = Counting(sandbox.transport())
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY),
        "http://sandbox.test/api/v1/",
        transport=transport,
        sleep=lambda _s: None,
    )
    return Env(sandbox, client, transport, Schema(client), tmp)


def existing_call(env: Env) -> dict[str, Any]:
    info = env.info(ACTIVITIES, "Discovery Call")
    acts = env.sandbox.state.custom_activities.values()
    return next(a for a in acts if a["custom_activity_type_id"] == info.id)


def update_row(
    env: Env, n: int, act: Mapping[str, Any], payload: Mapping[str, Any], type_id: str | None = None
) -> Row:
    return Row(n, "update", payload, type_id, act["id"], None)
