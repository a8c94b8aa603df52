"""The one clock: frozen in tests, fixed by SELFCARE_CLOCK only in dev and test, business time per day."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.storage.db import make_engine

ROOT = Path(__file__).resolve().parents[1]


def test_frozen_clock_today_is_the_stockholm_date() -> None:
    late_evening_utc = clock.FrozenClock(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert late_evening_utc.today() == date(2027, 1, 1)  # 00:30 in Stockholm
    midsummer = clock.FrozenClock(datetime(2026, 6, 30, 22, 30, tzinfo=UTC))
    assert midsummer.today() == date(2026, 7, 1)  # 00:30 CEST
    frozen = clock.FrozenClock("2026-05-02")
    assert frozen.now() == datetime(2026, 5, 2, 10, 0, tzinfo=UTC)  # noon CEST
    frozen.advance(timedelta(days=1))
    assert frozen.today() == date(2026, 5, 3)


def test_fixed_clock_from_the_environment_only_in_dev_and_test() -> None:
    fixed = {"SELFCARE_CLOCK": "2027-03-01T09:00:00+01:00"}
    assert clock.from_env({**fixed, "SELFCARE_ENV": "test"}).now() == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert clock.from_env({**fixed, "SELFCARE_ENV": "dev"}).today() == date(2027, 3, 1)
    for deployment in ("production", "prod", "staging", ""):
        assert isinstance(clock.from_env({**fixed, "SELFCARE_ENV": deployment}), clock.SystemClock)
    with pytest.raises(ValueError, match="SELFCARE_CLOCK"):
        clock.from_env({"SELFCARE_CLOCK": "next tuesday", "SELFCARE_ENV": "test"})


def test_use_installs_and_restores_the_process_clock() -> None:
    before = clock.current()
    with clock.use(clock.FrozenClock("2030-01-15")) as frozen:
        assert clock.today() == date(2030, 1, 15) and clock.current() is frozen
    assert clock.current() is before


def test_core_clock_is_the_process_clock(tmp_path: Path) -> None:
    core = Core(make_engine(f"sqlite:///{tmp_path / 'c.db'}"))
    with clock.use(clock.FrozenClock("2031-02-03")) as frozen:
        assert core.today() == date(2031, 2, 3) and core.clock is frozen
    core.engine.dispose()


def test_moment_on_is_now_for_today_and_the_morning_run_for_another_day() -> None:
    frozen = clock.FrozenClock(datetime(2026, 12, 11, 15, 0, tzinfo=UTC))
    assert clock.moment_on(date(2026, 12, 11), frozen) == frozen.now()
    assert clock.moment_on(date(2026, 12, 1), frozen) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert clock.moment_on(date(2026, 7, 1), frozen) == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 06:00 CEST


def test_cli_runs_on_the_fixed_clock(tmp_path: Path) -> None:
    """A subprocess takes its today from SELFCARE_CLOCK: the dunning run reports that day."""
    env = {
        **os.environ,
        "SELFCARE_ENV": "test",
        "SELFCARE_CLOCK": "2031-04-17",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-m", "backend_stub", "dunning", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["today"] == "2031-04-17"


def test_no_wall_clock_reads_outside_the_clock_module() -> None:
    """ruff's banned-api rule (TID251) is what enforces it; this checks the rule is in force."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "TID251",
            "--output-format",
            "concise",
            "backend_stub",
            "selfcare",
            "bench",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout
    probe = tmp = ROOT / "backend_stub" / "_probe_wall_clock.py"
    try:
        tmp.write_text("from datetime import date\n\nTODAY = date.today()\n", encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--select", "TID251", str(probe)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1 and "datetime.date.today" in out.stdout
    finally:
        tmp.unlink(missing_ok=True)
