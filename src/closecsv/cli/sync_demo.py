"""The demo's sync steps: a mirror, an edit of an old call and a deleted ticket, a second sync.

The edit goes through ``closecsv import`` (``sample_csvs/sync_demo_edit.csv`` names a call of
the sandbox's seed org by its fixed id).  closecsv has no delete command, so the delete is a
plain ``DELETE`` to the sandbox's API, shown as the ``curl`` line it stands for.
"""

from __future__ import annotations

from pathlib import Path

from closecsv.cli.demo_step import Step

EDITED_CALL = "acti_RL982kW4t2CA2CEbezp8iWKKCFtFBnHt"  # a seed Discovery Call
DELETED_TICKET = "acti_Uf9ZVFllXQHzE7iBJbhwmSokm7f8bSh3"  # a seed Support Ticket


def sync_steps(samples: Path, out: Path) -> list[Step]:
    """Sync, change two old instances, sync again: the second run reads only the changes."""
    mirror = ("--to", str(out / "mirror"), "--format", "csv")
    edit = samples / "sync_demo_edit.csv"
    reports = str(out / "reports")
    return [
        Step(
            "Sync activities into a mirror folder (first run: a full export)",
            ("sync", "activities", *mirror),
        ),
        Step(
            "Edit an old call by importing one edited row",
            ("import", "activities", str(edit), "--report-dir", reports),
        ),
        Step(
            "Delete a support ticket (closecsv never deletes: a direct API call)",
            (),
            request=("DELETE", f"activity/custom/{DELETED_TICKET}/"),
        ),
        Step(
            "Sync again: only the event log's changes are read and applied",
            ("sync", "activities", *mirror, "--changes-dir", str(out / "mirror-changes")),
        ),
    ]
