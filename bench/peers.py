"""Outside clients against the sandbox: do they read what ``closecsv export`` writes?

``make peers`` installs three public Close clients that nobody here wrote, each in its own
virtual environment under ``.venv-peers/`` (``tap-closeio`` and Airbyte's connector pin
different ``pendulum`` versions, so they cannot share one), then runs this script:

1. seed a sandbox (the seed org plus ``--activities`` activities over ``--types`` types on
   ``--leads`` leads, and ``--objects`` Deals) and start ``closecsv sandbox`` on a free port;
2. ``closecsv export activities`` and ``closecsv export objects`` (``--raw``) from it;
3. run each client (``bench/peer_clients/*_read.py``, in its environment) against it;
4. compare what each read with the export: the ids per type, then every value the client
   read for every exported column, after the normalisations in ``NORMALISATIONS``;
5. print a table and exit 1 on any difference, or when a client is missing or failed.

    make peers                                   # installs, then runs this
    .venv/bin/python bench/peers.py --venvs .venv-peers
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CLOSE_API_KEY": SANDBOX_API_KEY}
CLIENTS = ROOT / "bench" / "peer_clients"
# client name -> (its virtual environment under --venvs, the script run in it)
PEERS = {
    "closeio": ("closeio", "closeio_read.py"),
    "tap-closeio": ("tap", "tap_read.py"),
    "airbyte-source-close-com": ("airbyte", "airbyte_read.py"),
}
NORMALISATIONS = [
    "users: the API gives user ids, the export e-mails (ids mapped through GET user/)",
    "date-times: compared as instants in UTC to the microsecond (tap-closeio writes ...Z, "
    "the API and the export +00:00)",
    "numbers: JSON numbers vs text without a trailing .0",
    "multi-value fields: JSON lists vs values joined with ';'",
    "booleans: true/false vs the text true/false",
    "empty: an unset custom field is absent or null in the API, an empty cell in the export",
    "custom columns: custom.<field id> in the API, custom.<field name> in the export",
]
AIRBYTE = "airbyte-source-close-com"
USER_KEYS = {"user_id", "created_by", "updated_by"}
ACTIVITY_COLUMNS = {
    "activity_id": "id",
    "lead_id": "lead_id",
    "user": "user_id",
    "contact": "contact_id",
    "date_created": "date_created",
    "activity_at": "activity_at",
    "status": "status",
    "pinned": "pinned",
    "date_updated": "date_updated",
    "created_by": "created_by",
    "updated_by": "updated_by",
}
OBJECT_COLUMNS = {
    "custom_object_id": "id",
    "name": "name",
    "lead_id": "lead_id",
    "date_created": "date_created",
    "date_updated": "date_updated",
    "created_by": "created_by",
    "updated_by": "updated_by",
}


@dataclass
class Row:
    client: str
    what: str
    exported: int
    read: int
    values: int
    differences: list[str]


@dataclass
class Org:
    """What the comparison needs to know of the org, read from the sandbox's API."""

    emails: dict[str, str]  # user id -> e-mail
    types: dict[str, dict[str, Any]]  # type id -> type with "fields" (activity and object)
    user_fields: set[str]  # custom.<id> of user-typed fields


@dataclass
class Export:
    kind: str  # "activity" or "object"
    type_id: str
    type_name: str
    rows: dict[str, dict[str, str]]  # id -> canonical key -> cell


def instant(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def norm(value: Any, key: str, org: Org) -> str:
    """One API value as text comparable with an export cell (see ``NORMALISATIONS``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(norm(v, key, org) for v in value)
    if key in USER_KEYS or key in org.user_fields:
        return org.emails.get(str(value), str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return instant(text) if len(text) > 10 and text[4:5] == "-" and text[10:11] == "T" else text


def cell(text: str) -> str:
    return instant(text) if len(text) > 10 and text[4:5] == "-" and text[10:11] == "T" else text


def read_org(client: httpx.Client) -> Org:
    emails = {
        u["id"]: u["email"] for u in client.get("user/", params={"_limit": 1000}).json()["data"]
    }
    types: dict[str, dict[str, Any]] = {}
    for t in client.get("custom_activity/").json()["data"]:
        t["fields"] = client.get(f"custom_field_schema/activity/{t['id']}/").json()["fields"]
        types[t["id"]] = t
    for t in client.get("custom_object_type/").json()["data"]:
        types[t["id"]] = t
    user_fields = {
        f"custom.{f['id']}" for t in types.values() for f in t["fields"] if f["type"] == "user"
    }
    return Org(emails, types, user_fields)


def read_export(folder: Path, kind: str, org: Org) -> list[Export]:
    manifest = json.loads((folder / "manifest.json").read_text())
    fixed = ACTIVITY_COLUMNS if kind == "activity" else OBJECT_COLUMNS
    out = []
    for entry in manifest["types"]:
        fields = {
            f"custom.{f['name']}": f"custom.{f['id']}"
            for f in org.types[entry["type_id"]]["fields"]
        }
        columns = {**fixed, **fields}
        rows: dict[str, dict[str, str]] = {}
        with (folder / entry["file"]).open(newline="", encoding="utf-8-sig") as handle:
            for line in csv.DictReader(handle):
                record = {columns[c]: cell(v) for c, v in line.items() if c in columns}
                record["lead_name"] = line.get("lead_name", "")
                rows[record["id"]] = record
        out.append(Export(kind, entry["type_id"], entry["type_name"], rows))
    return out


def compare_instances(
    client: str, exports: list[Export], records: Iterable[dict[str, Any]], kind: str, org: Org
) -> list[Row]:
    """Ids per type, then every exported column's value as the client read it."""
    type_key = "custom_activity_type_id" if kind == "activity" else "custom_object_type_id"
    read: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        read.setdefault(str(record.get(type_key)), {})[record["id"]] = record
    rows = []
    for exp in exports:
        got = read.pop(exp.type_id, {})
        diffs = [f"missing {i}" for i in sorted(set(exp.rows) - set(got))]
        diffs += [f"extra {i}" for i in sorted(set(got) - set(exp.rows))]
        values = 0
        for iid in sorted(set(exp.rows) & set(got)):
            for key, want in exp.rows[iid].items():
                if key in ("id", "lead_name"):
                    continue
                values += 1
                have = norm(got[iid].get(key), key, org)
                if have != want:
                    diffs.append(f"{iid} {key}: export {want!r}, {client} {have!r}")
        rows.append(Row(client, f"{kind} {exp.type_name}", len(exp.rows), len(got), values, diffs))
    for type_id, extra in read.items():  # a type the export did not write at all
        name = org.types.get(type_id, {}).get("name", type_id)
        archived = org.types.get(type_id, {}).get("is_archived")
        if not archived:
            rows.append(Row(client, f"{kind} {name}", 0, len(extra), 0, ["type not exported"]))
    return rows


def compare_airbyte(records: list[dict[str, Any]], exports: list[Export], org: Org) -> list[Row]:
    """This build reads types, fields, users and leads: compare those with the export."""
    by_stream: dict[str, list[dict[str, Any]]] = {}
    for line in records:
        by_stream.setdefault(line["stream"], []).append(line["record"])
    rows = []
    check = by_stream.get("check", [{}])[0].get("status")
    errors = [str(e.get("internal_message") or e) for e in by_stream.get("error", [])]
    rows.append(Row(AIRBYTE, "check", 1, 1, 1, [] if check == "SUCCEEDED" else [f"check {check}"]))
    activity = [e for e in exports if e.kind == "activity"]
    types = {t["id"]: t for t in by_stream.get("custom_activities", []) if not t.get("is_archived")}
    diffs = [f"type {e.type_name} not read" for e in activity if e.type_id not in types]
    values = 0
    for exp in activity:
        typ = types.get(exp.type_id)
        if typ is None:
            continue
        values += 1
        if typ["name"] != exp.type_name:
            diffs.append(f"{exp.type_id} name {typ['name']!r} vs {exp.type_name!r}")
        want = {f["id"] for f in org.types[exp.type_id]["fields"]}
        values += 1
        if {f["id"] for f in typ["fields"]} != want:
            diffs.append(f"{exp.type_name}: fields differ from the export's columns")
    rows.append(Row(AIRBYTE, "activity types", len(activity), len(types), values, diffs + errors))
    fields = by_stream.get("activity_custom_fields", [])
    diffs, values = [], 0
    for field in fields:
        typ = org.types.get(field.get("custom_activity_type_id", ""))
        if typ is None or typ.get("is_archived"):
            continue
        values += 1
        known = {f["id"]: f["name"] for f in typ["fields"]}
        if known.get(field["id"]) != field["name"]:
            diffs.append(f"field {field['id']} {field['name']!r} not a column of {typ['name']}")
    exported_fields = sum(
        1 for e in activity for f in org.types[e.type_id]["fields"] if not f.get("is_shared")
    )
    rows.append(Row(AIRBYTE, "activity fields", exported_fields, values, values, diffs))
    leads = {lead["id"]: lead.get("display_name") for lead in by_stream.get("leads", [])}
    diffs, values = [], 0
    used = {(r["lead_id"], r["lead_name"]) for e in exports for r in e.rows.values()}
    for lead_id, name in sorted(used):
        values += 1
        if leads.get(lead_id) != name:
            diffs.append(f"lead {lead_id}: export {name!r}, airbyte {leads.get(lead_id)!r}")
    lead_ids = {lead_id for lead_id, _name in used}
    rows.append(
        Row(
            AIRBYTE,
            "leads of exported rows",
            len(lead_ids),
            len(lead_ids & set(leads)),
            values,
            diffs,
        )
    )
    users = {u["id"]: u.get("email") for u in by_stream.get("users", [])}
    diffs = [
        f"user {i}: {users.get(i)!r} vs {e!r}" for i, e in org.emails.items() if users.get(i) != e
    ]
    rows.append(Row(AIRBYTE, "users", len(org.emails), len(users), len(org.emails), diffs))
    return rows


def seed(path: Path, leads: int, activities: int, types: int, objects: int) -> None:
    sb = Sandbox(path)
    sb.populate(leads=leads, activities=activities, activity_types=types, objects=objects)
    sb.close()


def start_sandbox(data: Path) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "closecsv", "sandbox", "--data", str(data), "--port", "0"]
    proc = subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export CLOSE_API_URL="):
            return proc, line.split("=", 1)[1].strip()
    raise SystemExit("the sandbox did not start")


def export(url: str, kind: str, out: Path) -> None:
    cmd = [sys.executable, "-m", "closecsv", "-q", "--api-url", url, "export", kind]
    subprocess.run([*cmd, "--out-dir", str(out), "--raw", "--force"], env=ENV, check=True)


def run_peer(venvs: Path, name: str, url: str, out: Path) -> str | None:
    """Run one client; its error (or None) when it could not run or failed."""
    folder, script = PEERS[name]
    python = venvs / folder / "bin" / "python"
    if not (venvs / folder / ".installed").exists():
        return f"not installed in {venvs / folder} (make peers installs it; see its log there)"
    cmd = [str(python), str(CLIENTS / script), url, SANDBOX_API_KEY, str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return f"exit {done.returncode}: {tail}"
    return None


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def compare(name: str, path: Path, exports: list[Export], org: Org) -> list[Row]:
    records = lines_of(path)
    acts = [e for e in exports if e.kind == "activity"]
    objs = [e for e in exports if e.kind == "object"]
    if name == "closeio":
        streams: dict[str, list[dict[str, Any]]] = {"activity": [], "object": []}
        for line in records:
            streams[line["stream"]].append(line["record"])
        return compare_instances(
            name, acts, streams["activity"], "activity", org
        ) + compare_instances(name, objs, streams["object"], "object", org)
    if name == "tap-closeio":
        custom = [r["record"] for r in records if r["record"].get("_type") == "CustomActivity"]
        return compare_instances(name, acts, custom, "activity", org)
    return compare_airbyte(records, exports, org)


def table(rows: list[Row], failures: dict[str, str]) -> str:
    cols = ("client", "what", "ids exported", "ids read", "values", "differences")
    widths = (26, 28, 12, 9, 8, 11)

    def line(cells: tuple[Any, ...]) -> str:
        parts = [
            f"{str(c)[:w]:<{w}}" if i < 2 else f"{c:>{w}}"
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return " ".join(parts)

    out = [line(cols), "-" * (sum(widths) + len(widths) - 1)]
    for r in rows:
        out.append(line((r.client, r.what, r.exported, r.read, r.values, len(r.differences))))
    for name, error in failures.items():
        out.append(f"{name:<26} FAILED: {error.splitlines()[0] if error else ''}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venvs", type=Path, default=ROOT / ".venv-peers")
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--types", type=int, default=3)
    parser.add_argument("--objects", type=int, default=200)
    parser.add_argument("--only", choices=sorted(PEERS), action="append", help="one client")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="closecsv-peers-") as tmp:
        work = Path(tmp)
        seed(work / "org.json", args.leads, args.activities, args.types, args.objects)
        proc, url = start_sandbox(work / "org.json")
        try:
            rows, failures = check_all(url, work, args.venvs, args.only or sorted(PEERS))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(table(rows, failures))
    print("\nnormalised before comparing:\n" + "\n".join(f"- {n}" for n in NORMALISATIONS))
    diffs = [f"{r.client} {r.what}: {d}" for r in rows for d in r.differences]
    for line in diffs[:40]:
        print("DIFFERENCE", line)
    for name, error in failures.items():
        print(f"FAILED {name}: {error}")
    print(f"\n{time.monotonic() - started:.0f}s")
    return 1 if diffs or failures else 0


def check_all(
    url: str, work: Path, venvs: Path, names: list[str]
) -> tuple[list[Row], dict[str, str]]:
    export(url, "activities", work / "activities")
    export(url, "objects", work / "objects")
    with httpx.Client(base_url=url, auth=(SANDBOX_API_KEY, "")) as client:
        org = read_org(client)
    exports = read_export(work / "activities", "activity", org) + read_export(
        work / "objects", "object", org
    )
    rows: list[Row] = []
    failures: dict[str, str] = {}
    for name in names:
        out = work / f"{name}.jsonl"
        error = run_peer(venvs, name, url, out)
        if error is not None:
            failures[name] = error
            continue
        rows += compare(name, out, exports, org)
    return rows, failures


if __name__ == "__main__":
    sys.exit(main())
