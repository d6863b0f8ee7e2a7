"""Airbyte's ``source-close-com`` (the PyPI build) checks, discovers and reads from the sandbox.

Run by ``bench/peers.py`` in the peers' virtual environment.  The connector's address is
written in several places (a class attribute ``url_base``, a literal URL in
``check_connection``, f-strings that add a second slash); :func:`close_url.point_at` reaches
them all through ``requests``.  The connector is run through the Airbyte CDK's own entry point,
as its command line runs it: ``check``, ``discover``, then ``read`` of the streams that hold
what closecsv exports or needs (custom activity types, activity custom fields, users, leads)
with a configured catalog built from the discovered one.  Every Airbyte message is copied to
the output file (``RECORD``s as records; the check's status as a ``check`` record).

This build reads custom activity *types*, not their instances, and has no custom-object
stream (both came to the connector's source later than its last release on PyPI).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from airbyte_cdk.entrypoint import launch
from close_url import Output, arguments, point_at
from source_close_com import SourceCloseCom

STREAMS = ("custom_activities", "activity_custom_fields", "users", "leads")


def run(*args: str) -> list[dict[str, Any]]:
    """The connector's messages for one command line."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        launch(SourceCloseCom(), list(args))
    lines = captured.getvalue().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def configured(discovered: dict[str, Any]) -> dict[str, Any]:
    streams = [s for s in discovered["streams"] if s["name"] in STREAMS]
    found = {s["name"] for s in streams}
    if found != set(STREAMS):
        raise SystemExit(f"discover did not find the streams {sorted(set(STREAMS) - found)}")
    return {
        "streams": [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for s in streams
        ]
    }


def main() -> None:
    base, key, path = arguments()
    point_at(base)
    out = Output(path)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(json.dumps({"api_key": key, "start_date": "2000-01-01"}))
        for message in run("check", "--config", str(config)):
            if message.get("type") == "CONNECTION_STATUS":
                out.write("check", message["connectionStatus"])
        catalogs = [m for m in run("discover", "--config", str(config)) if m["type"] == "CATALOG"]
        catalog = Path(tmp) / "catalog.json"
        catalog.write_text(json.dumps(configured(catalogs[0]["catalog"])))
        for message in run("read", "--config", str(config), "--catalog", str(catalog)):
            if message.get("type") == "RECORD":
                out.write(message["record"]["stream"], message["record"]["data"])
            elif message.get("type") == "TRACE" and message["trace"].get("type") == "ERROR":
                out.write("error", message["trace"]["error"])
    out.close()


if __name__ == "__main__":
    sys.exit(main())
