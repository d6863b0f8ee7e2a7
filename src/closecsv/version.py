"""The version of closecsv, for ``--version`` and the client's ``User-Agent``."""

__version__ = "0.1.0"
