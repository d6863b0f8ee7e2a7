"""``closecsv`` run in-process against a served sandbox (the ``cli`` fixture), and its CSVs
read back."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

SAMPLES = Path(__file__).resolve().parents[2] / "sample_csvs"


def run_cli(url: str, *args: str) -> Result:
    """``closecsv --api-url URL ARGS`` in-process, with the sandbox's key."""
    env = {"CLOSE_API_KEY": SANDBOX_API_KEY}
    return CliRunner().invoke(main, ["--api-url", url, *args], env=env, catch_exceptions=False)


@dataclass
class Cli:
    sandbox: Sandbox
    url: str
    tmp: Path

    def __call__(self, *args: str) -> Result:
        return run_cli(self.url, *args)

    def sample(self, name: str) -> Path:
        target = self.tmp / name
        shutil.copy(SAMPLES / name, target)
        return target

    def instances(self) -> int:
        state = self.sandbox.state
        return len(state.custom_activities) + len(state.custom_objects)
