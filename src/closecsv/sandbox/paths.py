"""The path a request names, as Close routes it: repeated slashes, and the trailing slash.

- Repeated slashes are read as one: ``/api/v1//custom_object_type/`` is served as
  ``/api/v1/custom_object_type/`` (Close serves it; Airbyte's connector builds that URL).
- A known path without its trailing slash is answered with a redirect to the slash form, the
  query string kept (Close asks for the trailing slash "to avoid a redirect").  The status is
  308 for every method: a 308 keeps the method and the body (a 301 lets a client turn a POST
  into a GET and drop the body), and for GET it is the same as a 301.  Close's own status is
  not documented; 308 is what Close's web framework answers for a missing slash by default.
  The ``Location`` is the absolute path, without scheme and host, which HTTP allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from closecsv.sandbox.errors import Response

REDIRECT_STATUS = 308
_SLASHES = re.compile(r"/{2,}")


def single_slashes(path: str) -> str:
    """``path`` with every run of slashes read as one."""
    return _SLASHES.sub("/", path)


def redirect(path: str, query: Mapping[str, str]) -> Response:
    """A 308 to ``path`` with ``query`` (repeated names were joined with commas; the sandbox
    reads ``a=1,2`` and ``a=1&a=2`` alike)."""
    safe = quote(path, safe="/%:@!$&'()*+,;=-._~")  # a header is ASCII: escape anything else
    location = f"{safe}?{urlencode(dict(query))}" if query else safe
    return Response(REDIRECT_STATUS, {"location": location}, b"")
