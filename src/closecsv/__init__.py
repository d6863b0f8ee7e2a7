"""closecsv: Close CRM custom activities and custom objects to and from CSV.

From Python (the same operations and defaults as the command line)::

    import closecsv

    report = closecsv.export("activities", out_dir="exports", format="parquet")
    report = closecsv.import_file("calls.csv", kind="activities")

Importing the package is light: the work modules load when a function is first called.
"""

import sys
import types
from typing import Any

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
    ProgressEvent,
    export,
    import_file,
    leads,
    schema,
    template,
    users,
    validate,
)

__version__ = "0.1.0"


class _Package(types.ModuleType):
    """Keeps ``closecsv.schema`` the function: importing the submodule of that name (which
    the work modules do) would otherwise rebind the package attribute to the module.  The
    submodule stays importable (``from closecsv.schema import ...``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "schema" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
    "template",
    "users",
    "validate",
]
