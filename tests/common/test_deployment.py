"""Production is the default (issue 14): only ``SELFCARE_ENV=dev``/``test`` has dev conveniences, and the core's
server and the app refuse to start elsewhere without a JWT secret, naming the variable."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from backend_stub import clock
from backend_stub.api.app import create_app
from selfcare_common import deployment
from tests.conftest import SECRET, Env, token_for

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_LOOKALIKES = [
    None,
    "",
    "prod",
    "production",
    "staging",
    "Dev",
    "DEV",
    "dev ",
    " test",
    "development",
    "testing",
    "demo",
]


@pytest.mark.parametrize("value", PRODUCTION_LOOKALIKES)
def test_anything_but_exactly_dev_or_test_is_production(value: str | None) -> None:
    env = {} if value is None else {"SELFCARE_ENV": value}
    assert deployment.environment(env) == "production"
    assert deployment.is_production(env) and not deployment.is_dev(env)
    assert isinstance(clock.from_env({**env, "SELFCARE_CLOCK": "2030-01-01"}), clock.SystemClock)


@pytest.mark.parametrize("value", ["dev", "test"])
def test_dev_and_test_are_explicit(value: str) -> None:
    env = {"SELFCARE_ENV": value}
    assert deployment.environment(env) == value and deployment.is_dev(env)
    assert deployment.require_secret(env) is None  # a random per-process secret is used


def test_require_secret_names_the_variable() -> None:
    with pytest.raises(deployment.ConfigurationError, match=r"SELFCARE_JWT_SECRET is not set.*SELFCARE_ENV unset"):
        deployment.require_secret({})
    with pytest.raises(deployment.ConfigurationError, match=r"SELFCARE_ENV='staging' means production"):
        deployment.require_secret({"SELFCARE_ENV": "staging"})
    with pytest.raises(deployment.ConfigurationError, match="too short"):
        deployment.require_secret({"SELFCARE_ENV": "dev", "SELFCARE_JWT_SECRET": "x" * 31})
    assert deployment.require_secret({"SELFCARE_JWT_SECRET": "s" * 32}) == "s" * 32


def _bare_env(**extra: str) -> dict[str, str]:
    """An empty environment but for where the code is (the venv's own install may be another checkout)."""
    return {"PYTHONPATH": str(ROOT), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra", [{}, {"SELFCARE_ENV": "staging"}, {"SELFCARE_ENV": "production"}])
def test_core_server_refuses_to_start_without_a_secret(tmp_path: Path, extra: dict[str, str]) -> None:
    """``python -m backend_stub serve`` with an empty environment: exit 2, the variable named, no database made."""
    out = subprocess.run(
        [sys.executable, "-m", "backend_stub", "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=_bare_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "refuses to start" in out.stderr and "SELFCARE_JWT_SECRET is not set" in out.stderr
    assert not (tmp_path / "var").exists()  # refused before the database was touched


def test_demo_command_has_no_built_in_secret_outside_dev(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "backend_stub", "demo", "--customers", "1", "--months", "1"],
        cwd=tmp_path,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "SELFCARE_JWT_SECRET is not set" in out.stderr
    assert not (tmp_path / "var").exists()


def test_core_server_starts_in_dev_and_every_answer_has_the_headers(tmp_path: Path) -> None:
    """The control: the same command with SELFCARE_ENV=dev serves (a random secret), with security headers."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend_stub", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_bare_env(SELFCARE_ENV="dev"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answer is not None and answer.status_code == 200, proc.stdout.read().decode() if proc.stdout else ""
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_asgi_factory_refuses_before_touching_the_database(tmp_path: Path, env: Env) -> None:
    db = tmp_path / "never.db"
    env.set("DATABASE_URL", f"sqlite:///{db}")
    env.unset("SELFCARE_JWT_SECRET")
    for value in (None, "staging"):
        if value is None:
            env.unset("SELFCARE_ENV")
        else:
            env.set("SELFCARE_ENV", value)
        with pytest.raises(deployment.ConfigurationError, match="SELFCARE_JWT_SECRET"):
            create_app()
    assert not db.exists()


def test_app_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    """The Reflex app's module (what ``reflex run`` imports before it compiles or serves) refuses too."""
    out = subprocess.run(
        [sys.executable, "-c", "import selfcare.selfcare"],
        cwd=ROOT,
        env=_bare_env(
            HOME=str(tmp_path), REFLEX_STATES_WORKDIR=str(tmp_path / "states"), REFLEX_WEB_WORKDIR=str(tmp_path / "web")
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0
    assert "ConfigurationError: SELFCARE_JWT_SECRET is not set" in out.stderr, out.stderr[-2000:]


def test_offline_commands_need_no_secret(tmp_path: Path) -> None:
    """A CLI command that mints no token works in production without a secret."""
    out = subprocess.run(
        [sys.executable, "-m", "backend_stub", "invoices", "--period", "2026-10", "--json"],
        cwd=tmp_path,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    token = subprocess.run(
        [sys.executable, "-m", "backend_stub", "token", "--role", "service"],
        cwd=tmp_path,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert token.returncode == 2 and "SELFCARE_JWT_SECRET is not set" in token.stderr


@pytest.mark.parametrize("value", PRODUCTION_LOOKALIKES)
def test_dev_outbox_is_not_found_in_production(core, auth, env: Env, value: str | None) -> None:
    if value is None:
        env.unset("SELFCARE_ENV")
    else:
        env.set("SELFCARE_ENV", value)
    with TestClient(create_app(core, auth=auth)) as api:
        assert api.get("/dev/outbox", headers=token_for(auth, "service")).status_code == 404


@pytest.mark.parametrize("value", ["dev", "test"])
def test_dev_outbox_exists_in_dev(core, auth, env: Env, value: str) -> None:
    env.set("SELFCARE_ENV", value)
    with TestClient(create_app(core, auth=auth)) as api:
        assert api.get("/dev/outbox", headers=token_for(auth, "service")).status_code == 200


def test_the_suite_sets_its_deployment_explicitly() -> None:
    """tests/conftest.py says SELFCARE_ENV=test; the browser tests' app gets SELFCARE_ENV=dev and a secret."""
    assert len(SECRET) >= 32  # the API tests sign with an explicit secret (conftest.auth)
    from tests.e2e.app_process import _app_env

    assert os.environ["SELFCARE_ENV"] == "test"
    env = _app_env(port=1, database_url="sqlite://", workdir=ROOT / "var", scale=False)
    assert env["SELFCARE_ENV"] == "dev" and len(env["SELFCARE_JWT_SECRET"]) >= 32


def test_make_demo_and_serve_say_dev_explicitly() -> None:
    """The demo is dev because the Makefile says so, not because the variable is missing."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")  # one line per command
    recipes = {
        m.group(1): m.group(2).splitlines()
        for m in re.finditer(r"^(\w[\w-]*):[^\n]*\n((?:\t[^\n]*\n?)+)", makefile, re.MULTILINE)
    }
    commands = [
        c
        for c in recipes["demo"] + recipes["serve"]
        if "demo_seed.py" in c or "reflex run" in c or "backend_stub demo" in c
    ]
    assert len(commands) == 3 and all("SELFCARE_ENV=dev " in c for c in commands), commands
    cli = sorted((ROOT / "backend_stub" / "cli").glob("*.py"))
    assert cli and not [p.name for p in cli if '"demo-secret-' in p.read_text(encoding="utf-8")]
