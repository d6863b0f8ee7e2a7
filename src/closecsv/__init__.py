"""closecsv: Close CRM custom activities and custom objects to and from CSV."""

from closecsv.version import __version__

__all__ = ["__version__"]
