"""The ``closecsv`` command line: click commands only (``main`` is the click group)."""

from closecsv.cli.app import main

__all__ = ["main"]
