"""``closecsv sandbox`` (the local Close emulator) and ``closecsv demo`` (a tour against it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from closecsv.cli.context import translate_errors
from closecsv.close.config import is_loopback_host
from closecsv.errors import ConfigError, InputError


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--api-key",
    "sandbox_keys",
    metavar="KEY",
    multiple=True,
    help="A key the sandbox accepts (default: the documented sandbox key). Repeat it for "
    "several keys of the organization: key 1 is the owner, key 2 the next seed user, ...",
)
@click.option(
    "--other-org-key",
    "other_org_keys",
    metavar="KEY",
    multiple=True,
    help="A key of another organization: GET me/ names that organization, anything else "
    "is refused (to rehearse a wrong key among several).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file holding the org; created from the seed if missing, kept across runs. "
    "Default: in memory only.",
)
@click.option(
    "--rate-limit", type=float, metavar="RPS", help="Requests per second per key (token bucket)."
)
@click.option(
    "--org-rate-limit",
    type=click.FloatRange(min=0.001),
    metavar="RPS",
    help="Requests per second for the whole organization, every key together "
    "(default: 3 x --rate-limit, as Close has it).",
)
@click.option("--latency", type=float, default=0.0, metavar="MS", help="Added to every request.")
@click.option(
    "--fault-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    metavar="P",
    help="Share of requests that fail: a 5xx before any work, or a write committed and "
    "then its connection dropped.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Makes faults and ids repeatable."
)
@click.option(
    "--max-skip",
    type=click.IntRange(min=1),
    metavar="N",
    help="Lower every endpoint's _skip cap to N (to rehearse deep paging).",
)
@translate_errors
def sandbox_command(
    host: str,
    port: int,
    sandbox_keys: tuple[str, ...],
    other_org_keys: tuple[str, ...],
    data_path: Path | None,
    rate_limit: float | None,
    org_rate_limit: float | None,
    latency: float,
    fault_rate: float,
    seed: int,
    max_skip: int | None,
) -> None:
    """Run a local Close API emulator on loopback (Ctrl-C stops it).

    It prints its base URL and key; point closecsv at it with CLOSE_API_URL and
    CLOSE_API_KEY.

    \b
    Example:
        closecsv sandbox --port 8765 --data org.json --rate-limit 20 --latency 80
        closecsv sandbox --api-key k1 --api-key k2 --api-key k3 --rate-limit 20
    """
    from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

    if not is_loopback_host(host):
        raise ConfigError(f"--host {host} is not a loopback address", hint="use 127.0.0.1")
    key, *more = sandbox_keys or (SANDBOX_API_KEY,)
    try:
        sandbox = Sandbox(
            data_path,
            api_key=key,
            more_keys=more,
            other_org_keys=other_org_keys,
            org_rate_limit=org_rate_limit,
            rate_limit=rate_limit,
            latency_ms=latency,
            fault_rate=fault_rate,
            seed=seed,
            max_skip=max_skip,
        )
    except (OSError, ValueError, KeyError) as exc:  # a --data file that is not a sandbox org
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(
            f"cannot use --data {data_path}: {detail}",
            hint="give a new file name, or a data file an earlier sandbox wrote "
            "(an existing file is not changed)",
        ) from None

    def ready(url: str) -> None:
        click.echo(f"Close API sandbox listening on {url}", err=True)
        click.echo(f"export CLOSE_API_URL={url}")
        click.echo(f"export CLOSE_API_KEY={','.join([key, *more])}", nl=True)
        sys.stdout.flush()

    try:
        sandbox.serve_forever(host, port, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("sandbox stopped", err=True)


@click.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where the demo keeps the sandbox org, reports and exports: a new or empty folder, "
    "or one an earlier demo made (its last run's files are replaced; nothing else is touched).",
)
@click.option(
    "--samples",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("sample_csvs"),
    show_default=True,
    help="The folder of sample files to import.",
)
@translate_errors
def demo_command(workdir: Path, samples: Path) -> None:
    """Start a sandbox and run a real import and export of sample_csvs/, end to end.

    \b
    Example:
        closecsv demo --workdir /tmp/closecsv-demo
    """
    from closecsv.cli.demo import run_demo

    sys.exit(run_demo(workdir, samples))
