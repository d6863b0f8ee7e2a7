"""closecsv: Close CRM custom activities and custom objects to and from CSV.

From Python (the same operations and defaults as the command line)::

    import closecsv

    report = closecsv.export("activities", out_dir="exports", format="parquet")
    report = closecsv.import_file("calls.csv", kind="activities")

Importing the package is light: the work modules load when a function is first called.
"""

from closecsv.errors import (
    ApiError,
    AuthError,
    CloseCsvError,
    ConfigError,
    FatalError,
    InputError,
    NotFound,
    OutcomeUnknown,
    RequestRejected,
)
from closecsv.library import (
    export,
    import_file,
    leads,
    schema,
    sync,
    template,
    undo,
    users,
    validate,
)
from closecsv.progress import ProgressEvent
from closecsv.version import __version__

__all__ = [
    "ApiError",
    "AuthError",
    "CloseCsvError",
    "ConfigError",
    "FatalError",
    "InputError",
    "NotFound",
    "OutcomeUnknown",
    "ProgressEvent",
    "RequestRejected",
    "__version__",
    "export",
    "import_file",
    "leads",
    "schema",
    "sync",
    "template",
    "undo",
    "users",
    "validate",
]
