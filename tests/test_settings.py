"""The settings (``backend_stub.settings``, ``selfcare.settings``): every variable typed and checked, read once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend_stub import settings as core_settings
from backend_stub.api.app import create_app
from backend_stub.services.access.sessions import SessionPolicy
from backend_stub.services.lifecycle.messaging import MailSettings
from selfcare import settings as app_settings
from selfcare_common import deployment
from tests.conftest import Env, token_for

ROOT = Path(__file__).resolve().parent.parent
Settings = core_settings.Settings
AppSettings = app_settings.AppSettings


def _variables(cls: type) -> dict[str, str]:
    return {field.validation_alias: field.description or "" for field in cls.model_fields.values()}


def test_defaults_are_production_and_the_documented_values() -> None:
    s = Settings.from_env({})
    assert s.environment == deployment.PRODUCTION and s.is_production and not s.is_dev
    assert s.database_address == "sqlite:///var/selfcare.db"
    assert (s.session_idle_minutes, s.session_max_hours, s.smtp_port) == (30, 12, 25)
    assert s.pay_return_hosts == ("localhost", "127.0.0.1") and s.agent_credit_limit_ore == 50000
    assert not AppSettings.from_env({}).is_dev
    assert AppSettings.from_env({}).thread_poll_s == 1.0


@pytest.mark.parametrize("value", ["", "prod", "Dev", " dev", "development"])
def test_only_dev_and_test_are_not_production(value: str) -> None:
    assert Settings.from_env({"SELFCARE_ENV": value}).is_production
    assert not AppSettings.from_env({"SELFCARE_ENV": value}).is_dev
    assert Settings.from_env({"SELFCARE_ENV": "dev"}).is_dev and AppSettings.from_env({"SELFCARE_ENV": "test"}).is_dev


def test_every_variable_is_a_documented_field() -> None:
    for cls in (Settings, AppSettings):
        for name, description in _variables(cls).items():
            assert re.fullmatch(r"[A-Z][A-Z0-9_]+", name), name
            assert description, f"{cls.__name__}: {name} has no description"


def test_the_readme_names_only_variables_the_settings_read() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("### How the app runs") :]
    table = table[: table.index("\n\n", table.index("| variable |"))]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table)) - {"GRANIAN_WORKERS"}  # Reflex's own
    assert named and named <= set(_variables(Settings)) | set(_variables(AppSettings))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SELFCARE_SMTP_PORT": "x"}, "SELFCARE_SMTP_PORT: not a port number: 'x'"),
        ({"SELFCARE_SMTP_PORT": "0"}, "SELFCARE_SMTP_PORT: out of range: 0"),
        (
            {"SELFCARE_AGENT_CREDIT_LIMIT_ORE": "500 kr"},
            "SELFCARE_AGENT_CREDIT_LIMIT_ORE: '500 kr' is not a whole number",
        ),
        ({"SELFCARE_SESSION_IDLE_MINUTES": "0"}, "SELFCARE_SESSION_IDLE_MINUTES: 0 is outside 1..1440"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(deployment.ConfigurationError, match=f"^{re.escape(message)}$"):
        Settings.from_env(env)


def test_the_apps_bad_values() -> None:
    with pytest.raises(deployment.ConfigurationError, match="^SELFCARE_PORT: 'eighty' is not a whole number$"):
        AppSettings.from_env({"SELFCARE_PORT": "eighty"})
    assert AppSettings.from_env({"SELFCARE_THREAD_POLL_S": "soon"}).thread_poll_s == 1.0  # as before: the default
    assert AppSettings.from_env({"SELFCARE_THREAD_POLL_S": "0.01"}).thread_poll_s == 0.2  # never faster
    origins = AppSettings.from_env({"SELFCARE_ALLOWED_ORIGINS": " https://a.example, ,https://b.example"})
    assert origins.allowed_origins == ("https://a.example", "https://b.example")


def test_empty_is_unset_and_values_are_read_as_typed() -> None:
    s = Settings.from_env(
        {
            "SELFCARE_SMTP_PORT": "",
            "DATABASE_URL": "postgres://u@db/selfcare",
            "SELFCARE_PAY_RETURN_HOSTS": "Mina.Nordvik.example, localhost",
            "SELFCARE_SMTP_STARTTLS": "yes",
        }
    )
    assert s.smtp_port == 25 and s.smtp_starttls
    assert s.database_address == "postgresql+psycopg://u@db/selfcare"
    assert s.pay_return_hosts == ("mina.nordvik.example", "localhost")
    assert MailSettings.from_settings(s).starttls
    assert Settings.from_env({"SELFCARE_DATA_DIR": "/srv/data"}).database_address == "sqlite:////srv/data/selfcare.db"


def test_secrets_stay_out_of_repr() -> None:
    s = Settings.from_env({"SELFCARE_JWT_SECRET": "j" * 40, "SELFCARE_PAYGW_SECRET": "p" * 40})
    assert "j" * 40 not in repr(s) and "p" * 40 not in repr(s)


def test_read_once_and_again_after_a_reset(env: Env) -> None:
    first = core_settings.get_settings()
    assert core_settings.get_settings() is first  # cached: the environment is read once
    env.set("SELFCARE_SESSION_IDLE_MINUTES", "20")  # the fixture resets the cache
    assert core_settings.get_settings() is not first
    assert SessionPolicy.from_env().idle.total_seconds() == 20 * 60
    env.set("SELFCARE_THREAD_POLL_S", "0.5")
    assert app_settings.get_settings().thread_poll_s == 0.5


def test_the_api_takes_the_settings_it_is_given(core, auth) -> None:
    """The routes read ``app.state.settings``: a production app has no dev outbox, whatever the process says."""
    production = Settings.from_env({})
    dev = Settings.from_env({"SELFCARE_ENV": "dev"})
    for given, status in ((production, 404), (dev, 200)):
        with TestClient(create_app(core, auth=auth, settings=given)) as api:
            assert api.app.state.settings is given
            assert api.get("/dev/outbox", headers=token_for(auth, "service")).status_code == status


def test_only_the_settings_read_the_environment() -> None:
    readers = set()
    for package in ("backend_stub", "selfcare", "selfcare_common"):
        for path in (ROOT / package).rglob("*.py"):
            code = "\n".join(
                line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
            )
            if re.search(r"os\.environ(?!\[\"SELFCARE_JWT_SECRET\"\] = )|getenv", code.replace("``os.environ``", "")):
                readers.add(path.relative_to(ROOT).as_posix())
    # The base of both settings classes; the app's one write (its development secret, for the embedded core).
    assert readers == {"selfcare_common/env_settings.py"}
