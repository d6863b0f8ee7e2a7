"""A local emulator of the Close API for the endpoints closecsv uses (docs/SANDBOX.md).

>>> from closecsv.sandbox import Sandbox, SANDBOX_API_KEY
>>> sb = Sandbox()                      # in memory, seeded with the org of docs/ARCHITECTURE.md
>>> transport = sb.transport()          # httpx transport, in-process

``SANDBOX_API_KEY`` (``sandbox-key-0000000000000000``) is a fixed, fake, published key: it
protects nothing and only exists so that auth is checked like the real API.
"""

from closecsv.sandbox.server import SANDBOX_API_KEY, Sandbox

__all__ = ["SANDBOX_API_KEY", "Sandbox"]
