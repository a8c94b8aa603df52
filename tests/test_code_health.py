"""The code's health is part of the suite, so that CI (which runs the README's test command) keeps it:
``ruff check`` finds nothing and ``ruff format`` would change nothing (``STYLE.md``: ruff formats), and
mypy finds no type error in the packages it checks."""

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


# The packages mypy checks (with pyproject.toml's [tool.mypy]): the core and the app.
MYPY_PACKAGES = ("backend_stub", "selfcare", "selfcare_common")


def test_mypy_finds_nothing() -> None:
    packages = [arg for package in MYPY_PACKAGES for arg in ("-p", package)]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *packages], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "Success: no issues found" in result.stdout, result.stdout + result.stderr
