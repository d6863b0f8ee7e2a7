"""closecsv: Close CRM custom activities and custom objects to and from CSV."""

__version__ = "0.1.0"
