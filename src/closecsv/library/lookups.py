"""The Python API of ``closecsv schema``, ``template``, ``users`` and ``leads``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from closecsv import defaults
from closecsv.errors import ConfigError
from closecsv.library.common import PathArg, kind_of, open_client

if TYPE_CHECKING:
    from closecsv.close.schema import TypeInfo


def schema(*, api_key: str | None = None, api_url: str | None = None) -> dict[str, list[TypeInfo]]:
    """``closecsv schema``: ``{"activities": [...], "objects": [...]}``, each type with its
    fields (``column``, ``type``, ``required``, ``multiple``, ``choices``), archived too."""
    from closecsv.close.schema import Schema, kind_types

    with open_client(api_key, api_url, None) as client:
        return kind_types(Schema(client))


def template(
    kind: str,
    type: str,
    *,
    output: PathArg | None = None,
    api_key: str | None = None,
    api_url: str | None = None,
) -> str:
    """``closecsv template KIND TYPE``: the header line of a CSV for one type (``type``: exact
    name or id).  With ``output`` it is also written there (an existing file is refused)."""
    from closecsv.close.schema import Schema, template_columns
    from closecsv.importing.report_files import write_new_file

    with open_client(api_key, api_url, None) as client:
        info = Schema(client).find(kind_of(kind), type)
    buffer = _csv_line(template_columns(info))
    if output is not None:
        write_new_file(Path(output), buffer)
    return buffer


def _csv_line(cells: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def users(*, api_key: str | None = None, api_url: str | None = None) -> list[dict[str, Any]]:
    """``closecsv users --json``: every user a file can name (id, name, email, status)."""
    from closecsv.close.listing import list_users

    with open_client(api_key, api_url, None) as client:
        return list_users(client)


def leads(
    *,
    query: str | None = None,
    limit: int = defaults.LEADS_LIMIT,
    api_key: str | None = None,
    api_url: str | None = None,
) -> list[dict[str, Any]]:
    """``closecsv leads --json``: leads (newest first) with their contacts' emails and
    phones, at most ``limit`` (1-10000), only those matching ``query`` when given."""
    from closecsv.close.listing import list_leads

    if not 1 <= limit <= 10_000:
        raise ConfigError(f"limit={limit} is not between 1 and 10000", hint="e.g. 50")
    with open_client(api_key, api_url, None) as client:
        return list_leads(client, query, limit)
