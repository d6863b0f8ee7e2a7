"""Every option's default, in one place.

The command line's options (``closecsv import``/``validate``/``export``/``leads``), the option
dataclasses the runs take (``ImportOptions``, the importer's ``SendSettings``, ``ExportOptions``)
and the Python API (``closecsv.import_file`` and friends) all read their defaults from here,
so the CLI and a script given no option behave the same.  No imports: ``closecsv --help``
and ``import closecsv`` stay light.
"""

from __future__ import annotations

from typing import Final

# import and validate
CONCURRENCY: Final = 4  # requests in flight (1-16)
TIMEZONE: Final = "UTC"  # IANA zone for naive times (also export's --since/--until)
MULTI_SEPARATOR: Final = ";"  # splits (import) and joins (export) multi-values
ON_AMBIGUOUS: Final = "fail"  # a lead identifier that matches several leads
STATUS: Final = "published"  # status of created activities without a status cell
DELIMITER: Final = ","
DEFAULT_REGION: Final = "US"  # country of lead_phone values without +country code
SETTLE_SECONDS: Final = 10.0  # how long a lost create may take to show in Close's lists

# export
OUT_DIR: Final = "."
EXPORT_FORMAT: Final = "csv"
STRATEGY: Final = "auto"

# sync
SYNC_FORMAT: Final = "parquet"

# leads
LEADS_LIMIT: Final = 50
