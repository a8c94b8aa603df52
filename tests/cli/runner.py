"""``python -m backend_stub ARGS`` run in this process, as the CLI tests run it.

A new process for every command costs about a second of imports; the commands themselves take
milliseconds. :func:`run_cli` does here what that process would do: ``backend_stub.cli.main.main(argv)``
with the process's environment plus ``env``, in ``cwd``, the settings read afresh and the core's clock the
one the environment names (``SELFCARE_CLOCK`` in ``SELFCARE_ENV=test``: not the test's frozen clock object),
standard output and error captured as text, and the exit status ``sys.exit(main())`` would give (argparse's
``SystemExit`` included; an exception escaping is status 1 with its traceback on standard error).
Everything it changes is put back afterwards.

``test_cli.py::test_the_real_process_answers_as_the_runner_does`` runs a few commands as a real
``python -m backend_stub`` too and compares: the entry point and this runner must agree.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from backend_stub import clock
from backend_stub.cli.main import main
from tests.conftest import reset_settings

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "backend_stub"]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI's answer to ``args``: its exit status, standard output and standard error (as ``subprocess.run``
    with ``capture_output=True, text=True`` gives them)."""
    stdout, stderr = _Capture(), _Capture()
    with _environment(env or {}), _working_directory(cwd), _root_logger():
        with clock.use(clock.from_env()), redirect_stdout(stdout), redirect_stderr(stderr):
            code = _exit_status(list(args), stderr)
    return subprocess.CompletedProcess([*COMMAND, *args], code, stdout.text(), stderr.text())


def run_cli_process(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The same command in a real ``python -m backend_stub`` process (the entry point's own test)."""
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def _exit_status(argv: list[str], stderr: _Capture) -> int:
    """What ``sys.exit(main(argv))`` makes the process's exit status."""
    try:
        code: object = main(argv)
    except SystemExit as exc:
        code = exc.code
    except Exception:
        traceback.print_exc(file=stderr)
        return 1
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


class _Capture(io.TextIOWrapper):
    """A text stream with a ``buffer`` (``export-sie`` writes bytes to ``sys.stdout.buffer``)."""

    def __init__(self) -> None:
        self._bytes = io.BytesIO()
        super().__init__(self._bytes, encoding="utf-8", write_through=True)

    def text(self) -> str:
        """What was written, decoded and its line ends made ``\\n`` as ``subprocess``'s text mode does."""
        self.flush()
        data = self._bytes.getvalue().decode("utf-8")
        return data.replace("\r\n", "\n").replace("\r", "\n")


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` plus ``env`` for the command, the settings (core and app) read again before and after."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_settings()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()


@contextmanager
def _working_directory(cwd: Path | None) -> Iterator[None]:
    before = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def _root_logger() -> Iterator[None]:
    """``main`` calls ``logging.basicConfig``: whatever it adds to the root logger goes again afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
