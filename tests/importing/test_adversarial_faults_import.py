"""Adversarial faults through the importer (docs/ADVERSARIAL.md D, E, F, H): lost answers are
reconciled and never duplicated, stops are resumable, and every row lands in one bucket.

The sandbox runs in-process; :class:`Faulty` wraps its transport and spoils chosen creates in
the ways a network and a proxy do: committed and then the answer lost (dropped, 5xx, HTML,
timed out, truncated, trickling), or refused before any work.  Client and importer sleep on a
fake clock, so waits cost nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from closecsv.errors import ApiError, AuthError, FatalError
from closecsv.importing.job import Job
from closecsv.importing.journal import Journal
from tests.helpers.clock import FakeClock
from tests.helpers.faults import (
    PREFIX,
    Env,
    make_env,
    results,
    write_calls,
)


@pytest.fixture
def env(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Env]:
    # three trickled answers (450 s) would spend the run's timeout budget and stop the run
    # (test_client_timeout_budget.py); here they are reconciled, so the budget is lifted
    e = make_env(tmp_path, fake_clock, deadline=120.0, timeout_budget=3600.0)
    yield e
    e.client.close()
    e.sandbox.close()


LOST = [
    "commit_drop",
    "commit_read_timeout",
    "commit_500",
    "commit_502_html",
    "commit_504",
    "commit_truncated",
    "commit_trickle",
    "lost_500",
    "lost_502_html",
]


@pytest.mark.parametrize("fault", LOST)
def test_a_lost_answer_is_reconciled_and_never_duplicated(env: Env, fault: str) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 12)
    env.transport.faults = {2: fault, 5: fault, 9: fault}
    report = env.run(path)
    assert report.counts() == {"created": 12} and report.exit_code == 0
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(12)})
    assert env.client.stats.outcome_unknown == 3
    resent = 3 if fault.startswith("lost_") else 0
    assert env.transport.posts == 12 + resent
    ids = [r["_id"] for r in results(report)]
    assert len(set(ids)) == 12 and all(i in env.sandbox.state.custom_activities for i in ids)


def test_an_answer_lost_every_time_ends_skipped_in_doubt_without_html(env: Env) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 3)
    env.transport.faults = {n: "lost_502_html" for n in range(1, 50)}
    report = env.run(path)
    assert report.counts() == {"skipped": 3} and env.refs() == Counter()
    rows = results(report)
    assert all("outcome still unknown" in r["_error"] for r in rows)
    text = report.paths.results.read_text(encoding="utf-8")
    assert "<html" not in text.lower() and "nginx" not in text


def _storm(statuses: list[int]) -> Callable[[httpx.Request], httpx.Response | None]:
    """Answer creates with these statuses (200: the sandbox's own answer) until they run out."""

    def after(request: httpx.Request) -> httpx.Response | None:
        if request.method != "POST" or request.url.path.endswith("/data/search/") or not statuses:
            return None
        status = statuses.pop(0)
        return None if status == 200 else httpx.Response(status, headers={"retry-after": "20"})

    return after


def test_a_long_429_storm_is_waited_out_and_no_row_fails(env: Env, fake_clock: FakeClock) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 10)
    env.transport.after = _storm([429] * 45)  # 15 minutes of 429s at 20 s each
    report = env.run(path, concurrency=2)
    assert report.counts() == {"created": 10}
    assert report.rate_limited == 45 and env.client.stats.retries == 0
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(10)})


def test_429s_past_the_cap_stop_with_exit_3_and_the_rerun_resumes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    env = make_env(tmp_path, fake_clock, max_rate_limit_retries=5)
    path = write_calls(tmp_path / "calls.csv", env.sandbox, 20)
    env.transport.after = _storm([200] * 6 + [429] * 1000)
    first = env.run(path, concurrency=1)
    assert isinstance(first.fatal, ApiError) and first.fatal.status == 429
    assert first.exit_code == 3
    assert "failed" not in first.counts() and first.counts()["skipped"] >= 10
    assert "still rate limited" in first.fatal.message
    env.transport.after = None
    second = env.run(path)
    assert second.exit_code == 0 and Counter(r.status for r in second.results) == {"created": 20}
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(20)})


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, AuthError), (402, ApiError)],
    ids=["D18-401", "D18-403", "D18-402"],
)
def test_auth_or_plan_refusal_mid_run_stops_not_fails_and_resumes(
    env: Env, status: int, error: type[Exception]
) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 30)
    writes = [0]

    def refuse_after_eight(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and not request.url.path.endswith("/data/search/"):
            writes[0] += 1
            if writes[0] > 8:
                return httpx.Response(status, json={"error": "Nope"})
        return None

    env.transport.after = refuse_after_eight
    first = env.run(path, concurrency=2)
    assert isinstance(first.fatal, error) and first.exit_code == 3
    assert "failed" not in first.counts() and first.counts()["skipped"] >= 20
    assert writes[0] <= 8 + 2  # stopped at once: only requests already under way were refused
    env.transport.after = None
    second = env.run(path)
    assert Counter(r.status for r in second.results) == {"created": 30}
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(30)})


def test_no_ratelimit_headers_and_bare_429s_still_finish(env: Env) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 8)
    env.transport.after = _storm([429, 429, 429])
    report = env.run(path, concurrency=4)
    assert report.counts() == {"created": 8} and report.rate_limited == 3


# -- F11: a full disk -------------------------------------------------------------------------


def test_a_full_disk_under_the_journal_stops_the_run_and_the_rerun_finishes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 40)
    real_open = Journal.open

    def tiny(
        journal_path: Path, job: Job, organization: str | None = None, user: str | None = None
    ) -> Journal:
        journal = real_open(journal_path, job, organization, user)
        pages = journal._conn.execute("PRAGMA page_count").fetchone()[0]
        journal._conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLITE_FULL soon
        return journal

    monkeypatch.setattr(Journal, "open", staticmethod(tiny))
    first = env.run(path, concurrency=2)
    assert isinstance(first.fatal, FatalError) and first.exit_code == 3
    assert "database or disk is full" in first.fatal.message
    assert "failed" not in first.counts()
    monkeypatch.setattr(Journal, "open", staticmethod(real_open))
    second = env.run(path)
    assert Counter(r.status for r in second.results) == {"created": 40}
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(40)})


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_the_reports_is_a_clear_error_and_the_rerun_rewrites_them(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import closecsv.importing.report_files as report_files

    path = write_calls(env.tmp / "calls.csv", env.sandbox, 10)
    monkeypatch.setattr(report_files, "create_new_file", lambda _p: open("/dev/full", "w"))  # noqa: SIM115
    with pytest.raises(FatalError, match=r"calls\.results\.csv: No space left on device") as info:
        env.run(path)
    assert info.value.exit_code == 3
    assert info.value.hint is not None and "nothing is sent twice" in info.value.hint
    assert not (env.tmp / "calls.results.csv").exists()
    assert [p.name for p in env.tmp.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    posts = env.transport.posts
    again = env.run(path)
    assert Counter(r.status for r in again.results) == {"created": 10}
    assert env.transport.posts == posts  # all from the journal: nothing sent again
    assert len(results(again)) == 10


def test_report_files_are_private_and_never_written_through_a_symlink(env: Env) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 2)
    victim = env.tmp / "victim.txt"
    victim.write_text("precious")
    (env.tmp / "calls.results.csv").symlink_to(victim)
    (env.tmp / "calls.errors.csv").symlink_to(victim)  # no row fails: neither removed nor used
    report = env.run(path)
    assert victim.read_text() == "precious"
    assert not report.paths.results.is_symlink()
    assert report.paths.errors.is_symlink()
    for target in (report.paths.results, report.paths.journal):
        assert target.stat().st_mode & 0o077 == 0, target
