"""closecsv from Python: the command line's operations as functions.

Each function takes the options of its command as keyword-only arguments, with the same
defaults (both read :mod:`closecsv.defaults`), and returns what the command reports:

* :func:`import_file` / :func:`validate` -> an ``ImportReport`` (``exit_code``, ``failed``,
  ``counts()``, ``paths.results`` / ``paths.errors``, ``fatal``);
* :func:`undo` -> an ``UndoReport`` (``exit_code``, ``counts()``, ``paths.results``, ``fatal``);
* :func:`export` -> an ``ExportReport`` (``rows``, ``types``, ``out_dir``, ``summary()``);
* :func:`sync` -> a ``SyncReport`` (``mode``, ``counts()``, ``types``, ``summary()``,
  ``as_json()``);
* :func:`schema`, :func:`template`, :func:`users`, :func:`leads` -> the data the CLI prints.

``api_key`` / ``api_url`` default to ``CLOSE_API_KEY`` / ``CLOSE_API_URL`` as the CLI's do.
Nothing is printed: progress goes to the optional ``progress`` callback.  Problems are the
exceptions of :mod:`closecsv.errors` (``ConfigError`` and ``InputError``: nothing was sent;
``AuthError`` and ``ApiError``: the API or network stopped the run).  An import that the API
stops part-way still writes its reports and returns them, with the error in
``report.fatal`` and ``report.exit_code`` 3, as the CLI does.  No click, no tqdm, no exit.
"""

from closecsv.library.exports import export, sync
from closecsv.library.imports import import_file, validate
from closecsv.library.lookups import leads, schema, template, users
from closecsv.library.undo import undo

__all__ = [
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
