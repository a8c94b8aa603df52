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
app's ``/core`` with a service token), ``running_app`` (all of the above's facts),
``smtp_sink`` (the default app's SMTP server on loopback), ``agent_credentials`` (an agent and a
supervisor created in the app under test). A test
marked ``@pytest.mark.scale`` (or a parameter with that mark) gets them all in scale mode.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.app_process import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, RunningApp, pg_schema, start_app

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: a browser test against the running app (tests/e2e)")
    config.addinivalue_line(
        "markers", "scale: run against the app in scale mode (Redis, PostgreSQL, several backend workers)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """All browser tests go to one xdist worker (``--dist loadgroup``), so the app starts once."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps every message it is given."""

    def __init__(self) -> None:
        import email
        import email.policy

        self.messages: list[Any] = []
        self._parse = lambda raw: email.message_from_bytes(raw, policy=email.policy.default)
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook)
        self.messages.append(self._parse(envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 20.0) -> Any:
        """The first message ``predicate`` accepts, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for msg in list(self.messages):
                if predicate(msg):
                    return msg
            time.sleep(0.2)
        raise AssertionError(f"no such e-mail arrived; got {[m['subject'] for m in self.messages][-5:]}")


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """The default app's SMTP server: e-mail it sends (codes, invoice notices, replies) arrives here."""
    import socket

    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        sink.port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def default_app(tmp_path_factory: pytest.TempPathFactory, smtp_sink: SmtpSink) -> Iterator[RunningApp]:
    """The app on a fresh SQLite file, one backend worker (the embedded default); e-mail to ``smtp_sink``."""
    workdir = tmp_path_factory.mktemp("app")
    app = start_app(
        workdir,
        database_url=f"sqlite:///{workdir / 'selfcare.db'}",
        extra_env={"SELFCARE_SMTP_HOST": "127.0.0.1", "SELFCARE_SMTP_PORT": str(smtp_sink.port)},
    )
    try:
        yield app
    finally:
        app.stop()
        shutil.rmtree(workdir / "web", ignore_errors=True)


@pytest.fixture(scope="session")
def scale_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app as it runs at scale: Redis state manager, PostgreSQL, two backend workers."""
    workdir = tmp_path_factory.mktemp("scale-app")
    _schema, url, drop = pg_schema()
    try:
        app = start_app(workdir, database_url=url, scale=True)
        try:
            yield app
        finally:
            app.stop()
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


AGENT_PASSWORD = "e2e-agent-password-0123"
_AGENTS_CREATED: set[str] = set()


@pytest.fixture
def agent_credentials(running_app: RunningApp) -> dict[str, str]:
    """An agent and a supervisor in the app under test (created once per app): usernames and password."""
    import subprocess
    import sys

    creds = {"agent": "e2e-agent", "supervisor": "e2e-supervisor", "password": AGENT_PASSWORD}
    if running_app.url not in _AGENTS_CREATED:
        env = {**running_app.env, "SELFCARE_AGENT_PASSWORD": AGENT_PASSWORD}
        for role, name in (("agent", "Anna Agent"), ("supervisor", "Sam Supervisor")):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "backend_stub",
                    "create-agent",
                    "--username",
                    creds[role],
                    "--name",
                    name,
                    "--role",
                    role,
                ],
                cwd=E2E_DIR.parents[1],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        _AGENTS_CREATED.add(running_app.url)
    return creds


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed browser test leaves a screenshot and what the page showed in its report."""
    outcome = yield
    report = outcome.get_result()
    pg = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or pg is None:
        return
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"failed-{re.sub(r'[^A-Za-z0-9_.-]+', '-', item.name)}.png"
        pg.screenshot(path=str(path), full_page=True)
        alerts = pg.locator("[role=alert], .rt-CalloutRoot").all_inner_texts()
        fields = pg.evaluate(
            "() => Array.from(document.querySelectorAll('textarea, input'))"
            ".filter(f => f.id).map(f => f.id + '=' + JSON.stringify(f.value))"
        )
        report.sections.append(
            (
                "page at failure",
                "\n".join(
                    [
                        f"url: {pg.url}",
                        f"screenshot: {path}",
                        f"alerts and notices: {alerts}",
                        f"fields: {fields}",
                        f"console errors: {getattr(pg, 'console_errors', [])[-10:]}",
                    ]
                ),
            )
        )
    except Exception as exc:  # the page may be gone; the failure itself is what matters
        report.sections.append(("page at failure", f"could not be read: {exc}"))


@pytest.fixture
def browser_context(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser profile (390×844, touch, Swedish, Stockholm time)."""
    context = browser.new_context(
        viewport=VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        accept_downloads=True,
    )
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
        return int(
            pg.evaluate(
                "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
            )
        )

    return measure
