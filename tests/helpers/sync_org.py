"""Changes to a sandbox org between syncs, and the check that a mirror equals a fresh export."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from closecsv.close.client import CloseClient
from closecsv.close.kinds import ACTIVITIES, Kind
from closecsv.close.schema import Schema
from closecsv.exporting.exporter import ExportOptions, run_export
from closecsv.exporting.sync import SyncOptions, SyncReport, run_sync
from closecsv.exporting.sync_run import Hook
from closecsv.files.json_files import load_manifest
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


class Org:
    """A sandbox seen through a real client, with random creates, edits and deletes."""

    def __init__(self, sb: Sandbox, client: CloseClient, kind: Kind, seed: int = 0) -> None:
        self.sb, self.client, self.kind = sb, client, kind
        self.rng = random.Random(seed)
        self.created: list[str] = []

    def instances(self) -> dict[str, dict[str, Any]]:
        state = self.sb.state
        return state.custom_activities if self.kind is ACTIVITIES else state.custom_objects

    def create(self) -> str:
        """A copy of a random instance on its lead (its references stay valid there)."""
        source = self.instances()[self.rng.choice(sorted(self.instances()))]
        body = {k: v for k, v in source.items() if k.startswith("custom.")}
        body.update(
            {"lead_id": source["lead_id"], self.kind.type_id_key: source[self.kind.type_id_key]}
        )
        if self.kind is ACTIVITIES:
            body["status"] = source.get("status") or "published"
        else:
            body["name"] = f"copy {self.rng.randrange(10**6)}"
        new_id = str(self.client.post(self.kind.instance_path, body)["id"])
        self.created.append(new_id)
        return new_id

    def edit(self, instance_id: str) -> None:
        inst = self.instances()[instance_id]
        text = self._text_field(inst[self.kind.type_id_key])
        value = f"edited {self.rng.randrange(10**6)}"
        body = {"name": value} if text is None else {f"custom.{text}": value}
        self.client.put(self.kind.instance_url(instance_id), body)

    def delete(self, instance_id: str) -> None:
        self.client.delete(self.kind.instance_url(instance_id))

    def _text_field(self, type_id: str) -> str | None:
        fields = self.sb.state.fields
        types = (
            self.sb.state.activity_types if self.kind is ACTIVITIES else self.sb.state.object_types
        )
        for field_id in types[type_id]["field_ids"]:
            f = fields[field_id]
            if f["type"] == "text" and not f.get("is_shared"):
                return field_id
        return None

    def random_changes(self, count: int) -> None:
        """Creates, edits of old and new instances, and deletes, in a random mix."""
        for _ in range(count):
            ids = sorted(self.instances())
            roll = self.rng.random()
            if roll < 0.3 or len(ids) < 3:
                self.create()
            elif roll < 0.5 and any(i in self.instances() for i in self.created):
                self.edit(self.rng.choice([i for i in self.created if i in self.instances()]))
            elif roll < 0.8:
                self.edit(self.rng.choice(ids))
            else:
                self.delete(self.rng.choice(ids))

    def rename_field(self, type_name: str) -> None:
        """A schema change: the type's first own text field gets a new name."""
        type_id = self.type_id(type_name)
        field_id = self._text_field(type_id)
        assert field_id is not None
        self.sb.state.fields[field_id]["name"] += " (renamed)"

    def _field_path(self) -> str:
        return (
            "custom_field/activity/"
            if self.kind is ACTIVITIES
            else "custom_field/custom_object_type/"
        )

    def add_field(self, type_name: str) -> str:
        """A schema change through the API: a new text field on the type."""
        body = {self.kind.type_id_key: self.type_id(type_name), "name": "Added", "type": "text"}
        return str(self.client.post(self._field_path(), body)["id"])

    def remove_field(self, type_name: str) -> None:
        """A schema change through the API: the type's first own text field deleted."""
        field_id = self._text_field(self.type_id(type_name))
        assert field_id is not None
        self.client.delete(f"{self._field_path()}{field_id}/")

    def rename_field_by_api(self, type_name: str) -> None:
        field_id = self._text_field(self.type_id(type_name))
        assert field_id is not None
        self.client.put(f"{self._field_path()}{field_id}/", {"name": "Renamed"})

    def leads_with_instances(self) -> list[str]:
        return sorted({str(i["lead_id"]) for i in self.instances().values()})

    def delete_lead(self) -> str:
        """A lead with instances deleted: Close logs a deleted event for each of them."""
        lead = self.rng.choice(self.leads_with_instances())
        self.client.delete(f"lead/{lead}/")
        return lead

    def merge_leads(self) -> None:
        """One lead with instances merged into another: its instances move (updated events)."""
        source = self.rng.choice(self.leads_with_instances())
        destination = self.rng.choice(sorted(set(self.sb.state.leads) - {source}))
        body = {"source": source, "destination": destination}
        with httpx.Client(transport=self.sb.transport(), auth=(SANDBOX_API_KEY, "")) as raw:
            raw.post("http://sb.test/api/v1/lead/merge/", json=body).raise_for_status()

    def type_id(self, name: str) -> str:
        types = (
            self.sb.state.activity_types if self.kind is ACTIVITIES else self.sb.state.object_types
        )
        return next(t for t, info in types.items() if info["name"] == name)


def sync(
    client: CloseClient, kind: Kind, folder: Path, hook: Hook | None = None, **options: Any
) -> SyncReport:
    settings = SyncOptions(folder=folder, **options)
    return run_sync(client, Schema(client), kind, settings, hook=hook or (lambda stage: None))


def read(path: Path, id_column: str) -> pl.DataFrame:
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        frame = pl.read_csv(path, infer_schema=False)
    return frame.sort(id_column)


def assert_mirror_is_export(
    client: CloseClient,
    kind: Kind,
    folder: Path,
    out: Path,
    fmt: str,
    separator: str = ";",
    types: tuple[str, ...] = (),
) -> None:
    """Every file of a fresh full export equals the mirror's file of that type, cell by cell
    (rows compared by id: the order of rows is the route's), and the mirror has no other
    live file."""
    run_export(
        client,
        Schema(client),
        kind,
        ExportOptions(out_dir=out, format=fmt, force=True, separator=separator, type_refs=types),
    )  # type: ignore[arg-type]
    exported = load_manifest(out / "manifest.json")
    mirrored = load_manifest(folder / "manifest.json")
    live = [t for t in mirrored.types if t.note is None]
    assert sorted(t.file for t in live) == sorted(t.file for t in exported.types)
    by_file = {t.file: t for t in live}
    for entry in exported.types:
        mine = by_file[entry.file]
        assert (mine.type_id, mine.rows, mine.columns) == (entry.type_id, entry.rows, entry.columns)
        assert (mine.date_created_min, mine.date_created_max) == (
            entry.date_created_min,
            entry.date_created_max,
        )
        want = read(out / entry.file, kind.id_column)
        got = read(folder / entry.file, kind.id_column)
        assert got.schema == want.schema, entry.file
        assert got.to_dicts() == want.to_dicts(), entry.file
