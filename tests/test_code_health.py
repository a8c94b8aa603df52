"""The code's health is part of the suite, so that CI (which runs the README's test command) keeps it:
``ruff check`` finds nothing and ``ruff format`` would change nothing (``STYLE.md``: ruff formats)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["backend_stub", "selfcare", "selfcare_common", "tests", "bench", "rxconfig.py", ".ci"]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *SOURCES], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("command", [("check",), ("format", "--check")], ids=["lint", "format"])
def test_ruff_finds_nothing(command: tuple[str, ...]) -> None:
    result = _ruff(*command)
    assert result.returncode == 0, result.stdout + result.stderr
