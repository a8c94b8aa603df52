"""Start and stop the app as the README does (``reflex run --env prod``), isolated for tests and benchmarks.

Each instance gets its own database (seeded small), free port, frontend build directory and
state directory, so it never shares ``.web`` with a ``reflex run`` in the checkout or with
another test session. Used by ``tests/e2e/conftest.py`` and ``bench/web.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
SECRET = "e2e-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
SCALE_WORKERS = 2
START_TIMEOUT_S = float(os.environ.get("SELFCARE_E2E_START_TIMEOUT", "600"))
SEED_ARGS = ["--customers", "12", "--months", "3"]

# Debian's Chromium, driven by Playwright (its own browser download is not used).
CHROMIUM = os.environ.get("SELFCARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 390, "height": 844}


@dataclass
class RunningApp:
    """One running instance of the app: where it is and what it runs on."""

    mode: str  # "default" or "scale"
    url: str
    port: int
    database_url: str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False)

    @property
    def core_url(self) -> str:
        return self.url + "/core"

    def service_token(self, ttl: timedelta = timedelta(hours=2)) -> str:
        from backend_stub.services.access.tokens import AuthSettings, Role, issue_token

        return issue_token(AuthSettings(secret=SECRET), subject="e2e-tests", role=Role.SERVICE, ttl=ttl)

    def stop(self) -> None:
        stop_process(self.process)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def worker_pids(self) -> list[int]:
        """PIDs of the processes in the app's process group (the backend's workers among them)."""
        out = subprocess.run(["ps", "-o", "pid=,pgid=,args=", "-e"], capture_output=True, text=True).stdout
        pids = []
        for line in out.splitlines():
            pid, pgid, *_ = line.split(None, 2)
            if int(pgid) == self.process.pid:
                pids.append(int(pid))
        return pids


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_env(*, port: int, database_url: str, workdir: Path, scale: bool) -> dict[str, str]:
    """The environment the README's command gets (see Makefile ``demo``), plus test isolation."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REFLEX_", "SELFCARE_", "GRANIAN_")) and k not in ("REDIS_URL", "BILLING_API_URL")
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "SELFCARE_JWT_SECRET": SECRET,
            "SELFCARE_ENV": "dev",
            "SELFCARE_PORT": str(port),
            "SELFCARE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_BACKEND_HOST": "127.0.0.1",
            # Own frontend build and state directories: another session (or a `reflex run` in the
            # checkout) never shares them.
            "REFLEX_WEB_WORKDIR": str(workdir / "web"),
            "REFLEX_STATES_WORKDIR": str(workdir / "states"),
            "PATH": f"{TOOLS_BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if scale:
        env["REDIS_URL"] = REDIS_URL
        env["GRANIAN_WORKERS"] = str(SCALE_WORKERS)
    return env


def _seed(env: dict[str, str], log: Path, seed_args: list[str]) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "backend_stub", "seed", *seed_args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=300,
        )


def _wait_ready(app: RunningApp) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = ""
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if app.process.poll() is not None:
                raise RuntimeError(f"the app exited with {app.process.returncode} while starting:\n{app.log_tail()}")
            try:
                page = client.get(app.url + "/")
                core = client.get(app.core_url + "/health")
                ping = client.get(app.url + "/ping")
                if page.status_code == 200 and core.status_code == 200 and ping.status_code == 200:
                    return
                last = f"/ {page.status_code}, /core/health {core.status_code}, /ping {ping.status_code}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.5)
    raise RuntimeError(f"the app was not ready after {START_TIMEOUT_S:.0f} s ({last}):\n{app.log_tail()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the app's process group (how Reflex expects to stop), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers that outlived the supervisor.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start_app(
    workdir: Path,
    *,
    database_url: str,
    scale: bool = False,
    seed_args: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunningApp:
    """Seed ``database_url`` and start the app on a free port as the README does; wait until it serves.

    ``extra_env``: more settings for the app (e.g. ``SELFCARE_SMTP_HOST``/``PORT`` of a test SMTP server).
    """
    if not (TOOLS_BIN / "bun").exists():
        raise RuntimeError(f"{TOOLS_BIN / 'bun'} is missing: run `make install` (bun from npm into .tools/)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = _app_env(port=port, database_url=database_url, workdir=workdir, scale=scale)
    env.update(extra_env or {})
    log = workdir / "app.log"
    _seed(env, log, seed_args or SEED_ARGS)
    out = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    out.close()
    app = RunningApp(
        mode="scale" if scale else "default",
        url=f"http://127.0.0.1:{port}",
        port=port,
        database_url=database_url,
        workdir=workdir,
        log_path=log,
        process=process,
        env=env,
    )
    try:
        _wait_ready(app)
    except BaseException:
        stop_process(process)
        raise
    return app


def pg_schema() -> tuple[str, str, Callable[[], None]]:
    from sqlalchemy import create_engine, text

    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}", drop
