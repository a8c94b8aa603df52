"""Browser tests against the app started as the README starts it (``reflex run --env prod``).

Once per test session (all browser tests run in one xdist worker, group ``e2e``):

* the app: its own fresh SQLite database seeded small, its own free port, its own frontend
  build and state directories (never the checkout's ``.web``), the core embedded under ``/core``;
* in scale mode (tests marked ``scale``): the same app with ``REDIS_URL`` (Reflex's state in
  Redis), PostgreSQL (a schema of its own, dropped afterwards) and two backend workers that
  share sessions;
* one headless Debian Chromium driven by Playwright.

Fixtures: ``app_url``, ``page`` (390×844, Swedish), ``shot(name)`` (a full-page PNG in
``tests/e2e/screenshots/``), ``horizontal_overflow(page)``, ``otp_code(identifier)`` (the newest one-time code sent to a
customer, read from the core's ``GET /dev/outbox``), ``core_api`` (an httpx client on the
app's ``/core`` with a service token), ``running_app`` (all of the above's facts). A test
marked ``@pytest.mark.scale`` (or a parameter with that mark) gets them all in scale mode.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
CHROMIUM = os.environ.get("SELFCARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
VIEWPORT = {"width": 390, "height": 844}
SECRET = "e2e-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
SCALE_WORKERS = 2
START_TIMEOUT_S = float(os.environ.get("SELFCARE_E2E_START_TIMEOUT", "600"))
SEED_ARGS = ["--customers", "12", "--months", "3"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: a browser test against the running app (tests/e2e)")
    config.addinivalue_line(
        "markers", "scale: run against the app in scale mode (Redis, PostgreSQL, several backend workers)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """All browser tests go to one xdist worker (``--dist loadgroup``), so the app starts once."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


# --- the app ------------------------------------------------------------------------------

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
        from backend_stub.api.auth import AuthSettings, Role, issue_token

        return issue_token(AuthSettings(secret=SECRET), subject="e2e-tests", role=Role.SERVICE, ttl=ttl)

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
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REFLEX_", "SELFCARE_", "GRANIAN_")) and k not in ("REDIS_URL", "BILLING_API_URL")}
    env.update({
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
    })
    if scale:
        env["REDIS_URL"] = REDIS_URL
        env["GRANIAN_WORKERS"] = str(SCALE_WORKERS)
    return env


def _seed(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run([sys.executable, "-m", "backend_stub", "seed", *SEED_ARGS], cwd=ROOT, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300)


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


def _stop(process: subprocess.Popen[bytes]) -> None:
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


def start_app(workdir: Path, *, database_url: str, scale: bool = False) -> RunningApp:
    """Seed ``database_url`` and start the app on a free port as the README does; wait until it serves."""
    if not (TOOLS_BIN / "bun").exists():
        raise RuntimeError(f"{TOOLS_BIN / 'bun'} is missing: run `make install` (bun from npm into .tools/)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = _app_env(port=port, database_url=database_url, workdir=workdir, scale=scale)
    log = workdir / "app.log"
    _seed(env, log)
    out = log.open("ab")
    process = subprocess.Popen([sys.executable, "-m", "reflex", "run", "--env", "prod"], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    out.close()
    app = RunningApp(mode="scale" if scale else "default", url=f"http://127.0.0.1:{port}", port=port,
                     database_url=database_url, workdir=workdir, log_path=log, process=process, env=env)
    try:
        _wait_ready(app)
    except BaseException:
        _stop(process)
        raise
    return app


def _pg_schema() -> tuple[str, str, Callable[[], None]]:
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


@pytest.fixture(scope="session")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app on a fresh SQLite file, one backend worker (the embedded default)."""
    workdir = tmp_path_factory.mktemp("app")
    app = start_app(workdir, database_url=f"sqlite:///{workdir / 'selfcare.db'}")
    try:
        yield app
    finally:
        _stop(app.process)
        shutil.rmtree(workdir / "web", ignore_errors=True)


@pytest.fixture(scope="session")
def scale_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app as it runs at scale: Redis state manager, PostgreSQL, two backend workers."""
    workdir = tmp_path_factory.mktemp("scale-app")
    _schema, url, drop = _pg_schema()
    try:
        app = start_app(workdir, database_url=url, scale=True)
        try:
            yield app
        finally:
            _stop(app.process)
            shutil.rmtree(workdir / "web", ignore_errors=True)
    finally:
        drop()


@pytest.fixture
def running_app(request: pytest.FixtureRequest) -> RunningApp:
    """The app this test runs against: scale mode for tests marked ``scale``, else the default."""
    name = "scale_app" if request.node.get_closest_marker("scale") else "default_app"
    return request.getfixturevalue(name)


@pytest.fixture
def app_url(running_app: RunningApp) -> str:
    """The app's address, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
    return running_app.url


@pytest.fixture
def core_api(running_app: RunningApp) -> Iterator[httpx.Client]:
    """An httpx client on the app's ``/core`` with a service token (set-up and checks)."""
    headers = {"Authorization": f"Bearer {running_app.service_token()}"}
    with httpx.Client(base_url=running_app.core_url, headers=headers, timeout=30) as client:
        yield client


CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@pytest.fixture
def otp_code(core_api: httpx.Client) -> Callable[..., str]:
    """``otp_code(identifier)``: the newest one-time sign-in code sent to that customer.

    ``identifier`` is a customer number (``K100001``) or the address it went to (e-mail or
    phone). Waits up to ``timeout`` seconds for the message; ``after_id`` skips older ones.
    """

    def read(identifier: str, *, timeout: float = 15.0, after_id: int = 0) -> str:
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            params = {"customer": identifier} if re.fullmatch(r"[Kk]\d+", identifier.strip()) else {"to": identifier}
            resp = core_api.get("/dev/outbox", params={**params, "limit": 10})
            resp.raise_for_status()
            seen = resp.json()
            for msg in seen:  # newest first
                if msg["id"] <= after_id:
                    continue
                found = CODE_RE.search(f"{msg.get('subject') or ''} {msg.get('text') or ''}")
                if found:
                    return found.group(1)
            if time.monotonic() > deadline:
                raise AssertionError(f"no one-time code for {identifier!r} in the dev outbox; newest: {seen[:3]}")
            time.sleep(0.25)

    return read


# --- the browser --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the session (Playwright's own browsers are not used)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_context(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser profile (390×844, touch, Swedish, Stockholm time)."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="sv-SE", timezone_id="Europe/Stockholm", accept_downloads=True)
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: Any, running_app: RunningApp) -> Iterator[Any]:
    """A page in a fresh phone-sized profile; console errors are kept in ``page.console_errors``."""
    pg = browser_context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg


@pytest.fixture
def shot(page: Any, running_app: RunningApp) -> Callable[[str], Path]:
    """``shot(name)``: save a full-page screenshot ``tests/e2e/screenshots/<name>.png`` (scale: ``scale-<name>``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = SCREENSHOTS / f"{'scale-' if running_app.mode == 'scale' else ''}{safe}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def horizontal_overflow() -> Callable[[Any], int]:
    """``horizontal_overflow(page)``: CSS pixels the page is wider than its viewport (0 = no sideways scroll)."""

    def measure(pg: Any) -> int:
        return int(pg.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"))

    return measure
