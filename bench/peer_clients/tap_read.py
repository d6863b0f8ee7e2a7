"""Singer's ``tap-closeio`` reads its ``activities`` stream from the sandbox.

Run by ``bench/peers.py`` in the peers' virtual environment.  The tap's address is the module
constant ``tap_closeio.http.BASE_URL`` (``https://app.close.io/api/v1``), which
:func:`close_url.point_at` reaches through ``requests``.  The tap is run as its own command
line would run it, with a config (``api_key``, ``start_date``, ``date_window``) and a catalog
that selects only ``activities`` (given a catalog, the tap skips discovery, whose first request
asks the event log).  The tap reads ``GET /activity/`` in ``date_created`` windows with naive
``date_created__gt/__lt`` bounds and ``_skip`` paging; its Singer ``RECORD`` messages go to
stdout and are copied to the output file.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import tap_closeio
from close_url import Output, arguments, point_at
from singer import metadata
from tap_closeio import schemas

STREAM = "activities"


def catalog() -> dict[str, Any]:
    schema = schemas.load_schema(None, STREAM)
    mdata = metadata.to_map(
        metadata.get_standard_metadata(
            schema, key_properties=["id"], valid_replication_keys=["date_created"]
        )
    )
    mdata = metadata.write(mdata, (), "selected", True)
    for name in schema["properties"]:
        mdata = metadata.write(mdata, ("properties", name), "selected", True)
    entry = {
        "stream": STREAM,
        "tap_stream_id": STREAM,
        "key_properties": ["id"],
        "schema": schema,
        "metadata": metadata.to_list(mdata),
    }
    return {"streams": [entry]}


def main() -> None:
    base, key, path = arguments()
    point_at(base)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(
            json.dumps({"api_key": key, "start_date": "2000-01-01T00:00:00Z", "date_window": 365})
        )
        cat = Path(tmp) / "catalog.json"
        cat.write_text(json.dumps(catalog()))
        sys.argv = ["tap-closeio", "--config", str(config), "--catalog", str(cat)]
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            tap_closeio.main()
    out = Output(path)
    for line in captured.getvalue().splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("type") == "RECORD":
            out.write(message["stream"], message["record"])
    out.close()


if __name__ == "__main__":
    main()
