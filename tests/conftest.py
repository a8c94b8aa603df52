"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and a core on it."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from backend_stub import clock, settings
from backend_stub.core import Core
from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
from backend_stub.storage.db import make_engine, migrate

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-" + "s" * 40

TEST_NOW = "2026-12-05T10:00:00+01:00"
"""The business time the tests live in: the fixtures' October 2026 is billed (1 November, due
1 December) and December is running. Frozen for every test but the browser tests (whose app runs
in its own process on its own clock), so the suite passes on any real date."""


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.FrozenClock | None]:
    """The core's clock frozen at ``TEST_NOW``, in this process and in the CLI processes tests start
    (``SELFCARE_CLOCK``, honoured in ``SELFCARE_ENV=test``). A test moves it with ``.set()``/``.advance()``
    or runs a block on another day with ``clock.use(...)``."""
    if request.node.path.parent.name == "e2e":
        yield None
        return
    monkeypatch.setenv("SELFCARE_ENV", "test")
    monkeypatch.setenv(clock.CLOCK_ENV, TEST_NOW)
    reset_settings()
    with clock.use(clock.FrozenClock(TEST_NOW)) as frozen:
        yield frozen
    reset_settings()


class Env:
    """Set or unset environment variables for one test, the settings read again after each change
    (``backend_stub.settings.get_settings`` and the app's ``selfcare.settings.get_settings`` cache them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, name: str, value: str) -> None:
        self._monkeypatch.setenv(name, value)
        reset_settings()

    def unset(self, name: str) -> None:
        self._monkeypatch.delenv(name, raising=False)
        reset_settings()


def reset_settings() -> None:
    settings.reset()
    app_settings = sys.modules.get("selfcare.settings")
    if app_settings is not None:
        app_settings.reset()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """``env.set(name, value)`` / ``env.unset(name)``: the environment of this test; the settings (the
    core's and the app's) are read again after each change and after the test."""
    yield Env(monkeypatch)
    reset_settings()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated: MigratedTemplates) -> Iterator[str]:
    """A fresh database of its own at the newest migration: a SQLite file, or a PostgreSQL database (copies of
    one the migrations made once for the session: ``MigratedTemplates``)."""
    with migrated.database(request.param, tmp_path) as url:
        yield url


@contextmanager
def fresh_database(kind: str, directory: Path, prefix: str = "t") -> Iterator[str]:
    """The URL of a fresh, empty database: a SQLite file in ``directory``, or a PostgreSQL schema of its own
    (``kind`` ``"postgres"``), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'selfcare.db'}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class MigratedTemplates:
    """The newest schema, made once per test session (per xdist worker) by the migrations and copied for each
    test: the SQLite file copied, the PostgreSQL database created with it as the template (``CREATE DATABASE
    ... TEMPLATE``, dropped after the test). The migrations on an empty database take 0.1 s on SQLite and
    0.5 s on PostgreSQL (most of it the server creating tables); a copy takes milliseconds, or 0.2 s with
    PostgreSQL's create and drop. ``Core`` still runs ``migrate``, which finds the newest revision in place."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._sqlite: Path | None = None
        self._postgres: str | None = None  # the template database's name
        self._admin: Engine | None = None

    @contextmanager
    def database(self, kind: str, directory: Path) -> Iterator[str]:
        """The URL of a fresh database at the newest migration, in ``directory`` (SQLite), dropped afterwards."""
        if kind == "sqlite":
            path = directory / "selfcare.db"
            shutil.copyfile(self._sqlite_file(), path)
            yield f"sqlite:///{path}"
            return
        template = self._postgres_template()
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin_engine().connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        try:
            yield _pg_database_url(name)
        finally:
            with self._admin_engine().connect() as conn:  # FORCE: connections a test left open end
                conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))

    def close(self) -> None:
        """Drop the PostgreSQL template, if one was made."""
        if self._postgres is not None:
            with self._admin_engine().connect() as conn:
                conn.execute(text(f"DROP DATABASE {self._postgres} WITH (FORCE)"))
            self._postgres = None
        if self._admin is not None:
            self._admin.dispose()

    def _sqlite_file(self) -> Path:
        if self._sqlite is None:
            path = self._directory / "migrated.db"
            engine = make_engine(f"sqlite:///{path}")
            migrate(engine)
            engine.dispose()  # the last connection closed: the write-ahead log is in the file and removed
            assert not path.with_name(path.name + "-wal").exists()
            self._sqlite = path
        return self._sqlite

    def _postgres_template(self) -> str:
        if self._postgres is None:
            name = f"migrated_{uuid.uuid4().hex[:12]}"
            with self._admin_engine().connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            engine = make_engine(_pg_database_url(name))
            migrate(engine)
            engine.dispose()  # a template must have no connections when it is copied
            self._postgres = name
        return self._postgres

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        return self._admin


def _pg_database_url(name: str) -> str:
    """``PG_URL`` with another database of the same server."""
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated"))
    yield templates
    templates.close()


@pytest.fixture
def core(db_url: str) -> Iterator[Core]:
    c = Core(make_engine(db_url))
    yield c
    c.engine.dispose()


@pytest.fixture
def auth() -> AuthSettings:
    return AuthSettings(secret=SECRET)


def token_for(settings: AuthSettings, role: str, customer_id: int | None = None) -> dict[str, str]:
    """An Authorization header for a role (and customer, for subscribers)."""
    tok = issue_token(
        settings, subject=f"test-{role}", role=Role(role), customer_id=customer_id, ttl=timedelta(minutes=10)
    )
    return {"Authorization": f"Bearer {tok}"}


def problems(response) -> list[str]:
    """A 422's items as the app shows them, ``field: message`` (FastAPI's shape: ``detail`` a list of
    ``{loc, msg, type}``; the location, body, query or path, left out)."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    out = []
    for item in detail:
        field = ".".join(str(x) for x in item["loc"] if x not in ("body", "query", "path", "header"))
        out.append(f"{field}: {item['msg']}" if field else item["msg"])
    return out


def run_coroutine(coro):
    """Run a coroutine to the end, also when this thread already runs a loop (Playwright's sync
    API leaves one running in a worker that has run browser tests, as in ``make test``)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
