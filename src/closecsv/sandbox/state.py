"""The sandbox org in memory, and how it is kept on disk.

Storage design
--------------
``data_path`` (the ``--data`` file) holds a JSON snapshot::

    {"format": "closecsv-sandbox/1", "meta": {"counter": 17, "org": {...}},
     "collections": {"users": {id: obj}, "leads": {...}, ..., "events": {...}}}

(``events`` is the event log, events.py; a file written before it existed loads with none.)

Beside it, ``<data_path>.log`` is an append-only JSON-lines log of mutations, one line per
write (``{"op": "put", "coll": "custom_activities", "obj": {...}, "counter": 18}`` or
``{"op": "del", "coll": ..., "id": ...}``), flushed at once and fsynced once per request
before the API answers, so a write the API confirmed survives a kill.  A write costs one small
append, not a rewrite of a 100k-object snapshot.  On open the snapshot is read, the log
replayed (a torn last line from a crash is ignored) and, if the log held anything, the two are
compacted into a new snapshot (written to a temporary file and renamed) with an empty log;
:meth:`State.close` compacts again if anything was written.  A missing file is created from
:func:`seed.build_seed`.

Concurrency: one re-entrant lock (:attr:`State.lock`); the dispatcher holds it for the whole of
a request's work, so every request sees and leaves a consistent org.  It also runs each
request inside :meth:`State.atomic`: when the handler raises (a refused or a failed write),
every ``put``/``delete`` it made is undone, in memory and with compensating log lines, so an
answer that is not a success never leaves a write behind.

Indexes kept in memory (never persisted): children by lead (contacts, activities, objects); a
per-collection list sorted by ``(date_created, id)``, built lazily and then kept in step, which
the list endpoints bisect for date filters and index into for ``_skip``; and the search
lookups of :mod:`closecsv.sandbox.indexes` (e-mails, phones, name words, type ids), built on
first use and kept in step with every write.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from closecsv.sandbox.event_index import EVENTS, EventIndex
from closecsv.sandbox.ids import Collections, Obj, runtime_id
from closecsv.sandbox.indexes import Indexes
from closecsv.sandbox.seed import COLLECTIONS, build_seed

FORMAT = "closecsv-sandbox/1"
_BY_LEAD = ("contacts", "custom_activities", "custom_objects")


class State:
    """The org: collections of objects by id, plus the org record and an id counter."""

    def __init__(self, data_path: Path | None = None, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.data_path = data_path
        self._log: Any = None
        self._dirty = False
        self._unsynced = False
        self._undo: list[tuple[str, str, Obj | None]] | None = None
        self._sorted: dict[str, list[tuple[str, str]]] = {}
        self._children: dict[str, defaultdict[str, set[str]]] = {}
        self.indexes = Indexes(lambda: self.collections)
        self.event_index = EventIndex(lambda: self.collections[EVENTS])
        self.event_merge_seconds = 10.0  # consolidation window of the event log (events.py)
        cols, org = build_seed()
        self.collections: Collections = cols
        self.meta: Obj = {"counter": 0, "org": org}
        if data_path is not None:
            self._open(data_path)
        self._reindex()

    # -- public views named by the Sandbox contract ------------------------------------
    @property
    def users(self) -> dict[str, Obj]:
        return self.collections["users"]

    @property
    def leads(self) -> dict[str, Obj]:
        return self.collections["leads"]

    @property
    def contacts(self) -> dict[str, Obj]:
        return self.collections["contacts"]

    @property
    def activity_types(self) -> dict[str, Obj]:
        return self.collections["activity_types"]

    @property
    def fields(self) -> dict[str, Obj]:
        return self.collections["fields"]

    @property
    def custom_activities(self) -> dict[str, Obj]:
        return self.collections["custom_activities"]

    @property
    def object_types(self) -> dict[str, Obj]:
        return self.collections["object_types"]

    @property
    def custom_objects(self) -> dict[str, Obj]:
        return self.collections["custom_objects"]

    @property
    def org(self) -> Obj:
        org: Obj = self.meta["org"]
        return org

    def inactive_user_ids(self) -> set[str]:
        return {uid for uid, _role in self.org["inactive"]}

    # -- mutations -----------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        """A fresh deterministic id; the counter is persisted with the next ``put``."""
        self.meta["counter"] += 1
        return runtime_id(prefix, self.seed, self.meta["counter"])

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Undo every ``put``/``delete`` made inside when the block raises; then re-raise."""
        with self.lock:
            outer, counter = self._undo, self.meta["counter"]
            undo: list[tuple[str, str, Obj | None]] = []
            self._undo = undo
            try:
                yield
            except BaseException:
                self._roll_back(undo, counter)
                raise
            finally:
                self._undo = outer
                if outer is None:
                    self._sync_log()  # one fsync per request, before it is answered
            if outer is not None:  # nested: the outer block may still undo these
                outer.extend(undo)

    def _roll_back(self, undo: list[tuple[str, str, Obj | None]], counter: int) -> None:
        self.meta["counter"] = counter
        if not undo:
            return
        for coll, oid, old in reversed(undo):
            if old is None:
                self.collections[coll].pop(oid, None)
                self._append({"op": "del", "coll": coll, "id": oid})
            else:
                self.collections[coll][oid] = old
                self._append({"op": "put", "coll": coll, "obj": old, "counter": counter})
        self._reindex()

    def put(self, coll: str, obj: Obj) -> None:
        old = self.collections[coll].get(obj["id"])
        if self._undo is not None:
            self._undo.append((coll, obj["id"], old))
        self.collections[coll][obj["id"]] = obj
        self._index_child(coll, old, remove=True)
        self._index_child(coll, obj, remove=False)
        self._resort(coll, old, obj)
        self.indexes.changed(coll, old, obj)
        self.event_index.changed(coll, old, obj)
        self._append({"op": "put", "coll": coll, "obj": obj, "counter": self.meta["counter"]})

    def delete(self, coll: str, oid: str) -> None:
        if self._undo is not None and oid in self.collections[coll]:
            self._undo.append((coll, oid, self.collections[coll][oid]))
        old = self.collections[coll].pop(oid)
        self._index_child(coll, old, remove=True)
        self._resort(coll, old, None)
        self.indexes.changed(coll, old, None)
        self.event_index.changed(coll, old, None)
        self._append({"op": "del", "coll": coll, "id": oid})

    def put_many(self, coll: str, objs: list[Obj]) -> None:
        """Bulk insert (populate): no log lines; the caller compacts afterwards."""
        for obj in objs:
            old = self.collections[coll].get(obj["id"])
            self.collections[coll][obj["id"]] = obj
            self._index_child(coll, obj, remove=False)
            self.indexes.changed(coll, old, obj)
        self._sorted.pop(coll, None)

    # -- queries ---------------------------------------------------------------------------
    def children(self, coll: str, lead_id: str) -> set[str]:
        return self._children[coll].get(lead_id, set())

    def sorted_keys(self, coll: str) -> list[tuple[str, str]]:
        """``(date_created, id)`` of every object in ``coll``, ascending."""
        keys = self._sorted.get(coll)
        if keys is None:
            keys = sorted((o["date_created"], o["id"]) for o in self.collections[coll].values())
            self._sorted[coll] = keys
        return keys

    # -- persistence -----------------------------------------------------------------------
    @property
    def log_path(self) -> Path | None:
        return None if self.data_path is None else Path(f"{self.data_path}.log")

    def _open(self, path: Path) -> None:
        if path.exists():
            blob = json.loads(path.read_text(encoding="utf-8"))
            if blob.get("format") != FORMAT:
                raise ValueError(f"{path} is not a closecsv sandbox data file")
            self.collections = {c: blob["collections"].get(c, {}) for c in COLLECTIONS}
            self.meta = blob["meta"]
            if self._replay() == 0:
                log = self.log_path
                assert log is not None
                self._log = log.open("a", encoding="utf-8")
                return
        self.compact()

    def _replay(self) -> int:
        """Apply the log to the snapshot; returns how many lines were applied."""
        log = self.log_path
        if log is None or not log.exists():
            return 0
        applied = 0
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break  # a torn last line: that write was never confirmed
            if entry["op"] == "put":
                self.collections[entry["coll"]][entry["obj"]["id"]] = entry["obj"]
                self.meta["counter"] = max(self.meta["counter"], entry["counter"])
            else:
                self.collections[entry["coll"]].pop(entry["id"], None)
            applied += 1
        return applied

    def compact(self) -> None:
        """Write the snapshot atomically and start an empty log."""
        if self.data_path is None:
            return
        with self.lock:
            self._close_log()
            blob = {"format": FORMAT, "meta": self.meta, "collections": self.collections}
            tmp = self.data_path.with_name(self.data_path.name + ".tmp")
            self.data_path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(blob, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.data_path)
            log = self.log_path
            assert log is not None
            self._log = log.open("w", encoding="utf-8")
            self._dirty = False

    def _append(self, entry: Obj) -> None:
        if self._log is None:
            return
        self._dirty = True
        self._log.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._log.flush()
        self._unsynced = True
        if self._undo is None:  # outside a request; inside one, atomic() syncs at its end
            self._sync_log()

    def _sync_log(self) -> None:
        if self._unsynced and self._log is not None:
            os.fsync(self._log.fileno())
        self._unsynced = False

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Compact and release the log file (safe to call twice)."""
        if self.data_path is not None and self._log is not None and self._dirty:
            self.compact()
        self._close_log()

    # -- indexes ---------------------------------------------------------------------------
    def _reindex(self) -> None:
        self._sorted.clear()
        self.indexes.reset()
        self.event_index.reset()
        self._children = {c: defaultdict(set) for c in _BY_LEAD}
        for coll in _BY_LEAD:
            for obj in self.collections[coll].values():
                self._index_child(coll, obj, remove=False)

    def _resort(self, coll: str, old: Obj | None, new: Obj | None) -> None:
        """Keep the sorted keys of ``coll`` (if built) in step with one change."""
        keys = self._sorted.get(coll)
        if keys is None:
            return
        if old is not None:
            at = bisect.bisect_left(keys, (old["date_created"], old["id"]))
            if at < len(keys) and keys[at] == (old["date_created"], old["id"]):
                del keys[at]
        if new is not None:
            bisect.insort(keys, (new["date_created"], new["id"]))

    def _index_child(self, coll: str, obj: Obj | None, *, remove: bool) -> None:
        if obj is None or coll not in self._children:
            return
        bucket = self._children[coll][obj["lead_id"]]
        if remove:
            bucket.discard(obj["id"])
        else:
            bucket.add(obj["id"])
