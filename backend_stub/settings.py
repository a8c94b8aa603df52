"""The core's settings: every environment variable the core reads, typed, checked and read once.

:func:`get_settings` reads the process environment once (``pydantic-settings``, through
``selfcare_common.env_settings``) and caches the result; everything else takes what it needs from that one
object: ``api.app.create_app`` keeps it in ``app.state.settings`` for the routes (``api.deps.settings_of``),
``cli.main`` reads it before any command runs, and the services' own settings (``AuthSettings.from_settings``,
``SessionPolicy.from_settings``, ``MailSettings.from_settings``, ``LifecycleConfig.from_settings``) are built
from it. Nothing else in the core reads ``os.environ`` (``selfcare_common.deployment`` interprets
``SELFCARE_ENV`` for both sides).

A bad value stops the start with a :class:`deployment.ConfigurationError` (a ``ValueError``) that names
the variable: ``SELFCARE_SESSION_IDLE_MINUTES: 0 is outside 1..1440``. An empty variable counts as unset.
Production is the default: without ``SELFCARE_ENV`` (or with any value but exactly ``dev`` or ``test``) no
development convenience is on.

Tests that change the environment call :func:`reset` (``tests/conftest.py`` does it around every test,
and its ``env`` fixture after every change); ``Settings.from_env(mapping)`` reads a given mapping instead
of the process environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from selfcare_common import deployment
from selfcare_common.env_settings import EnvSettings, whole_number


class Settings(EnvSettings):
    """What the environment says, one field per variable (the README's table lists them)."""

    # --- the deployment ------------------------------------------------------------------------
    selfcare_env: str | None = Field(
        None,
        validation_alias=deployment.ENV_VAR,
        description="``dev`` or ``test`` turn on development conveniences; anything else (unset too) is production.",
    )
    clock: str | None = Field(
        None,
        validation_alias="SELFCARE_CLOCK",
        description="A fixed business instant or date (dev and test only; ``backend_stub.clock``).",
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: str | None = Field(
        None, validation_alias="DATABASE_URL", description="The database (default: SQLite under the data folder)."
    )
    data_dir: Path = Field(
        Path("var"), validation_alias="SELFCARE_DATA_DIR", description="Folder of the default SQLite file."
    )
    redis_url: str | None = Field(
        None,
        validation_alias="REDIS_URL",
        description="Where the core signals a changed invoice thread to the app's workers (``selfcare_common.thread_signal``).",
    )

    # --- tokens and sessions -------------------------------------------------------------------
    jwt_secret: str | None = Field(
        None,
        repr=False,
        validation_alias=deployment.SECRET_VAR,
        description="HMAC secret of the tokens, at least 32 bytes (required in production).",
    )
    jwt_issuer: str = Field("selfcare-core", validation_alias="SELFCARE_JWT_ISSUER", description="Tokens' ``iss``.")
    jwt_audience: str = Field("selfcare-api", validation_alias="SELFCARE_JWT_AUDIENCE", description="Tokens' ``aud``.")
    session_idle_minutes: int = Field(
        30, validation_alias="SELFCARE_SESSION_IDLE_MINUTES", description="A session ends unused this long (1..1440)."
    )
    session_max_hours: int = Field(
        12, validation_alias="SELFCARE_SESSION_MAX_HOURS", description="A session lives at most this long (1..720)."
    )

    # --- payments --------------------------------------------------------------------------------
    paygw_secret: str | None = Field(
        None,
        repr=False,
        validation_alias="SELFCARE_PAYGW_SECRET",
        description="The test payment provider's webhook secret (outside production: derived from the JWT secret).",
    )
    pay_return_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        ("localhost", "127.0.0.1"),
        validation_alias="SELFCARE_PAY_RETURN_HOSTS",
        description="Comma-separated hosts the payment provider may send the payer back to.",
    )

    # --- support ---------------------------------------------------------------------------------
    agent_credit_limit_ore: int = Field(
        50000,
        validation_alias="SELFCARE_AGENT_CREDIT_LIMIT_ORE",
        description="Credits above this (öre) need a supervisor.",
    )
    agent_password: str | None = Field(
        None,
        repr=False,
        validation_alias="SELFCARE_AGENT_PASSWORD",
        description="``create-agent``'s password (else it asks for one).",
    )

    # --- e-mail ----------------------------------------------------------------------------------
    smtp_host: str | None = Field(
        None, validation_alias="SELFCARE_SMTP_HOST", description="SMTP server; unset: e-mail is only recorded."
    )
    smtp_port: int = Field(25, validation_alias="SELFCARE_SMTP_PORT", description="SMTP port.")
    mail_from: str | None = Field(None, validation_alias="SELFCARE_MAIL_FROM", description="Sender of e-mail.")
    smtp_user: str | None = Field(None, validation_alias="SELFCARE_SMTP_USER", description="SMTP user name.")
    smtp_password: str | None = Field(
        None, repr=False, validation_alias="SELFCARE_SMTP_PASSWORD", description="SMTP password."
    )
    smtp_starttls: bool = Field(
        False, validation_alias="SELFCARE_SMTP_STARTTLS", description="STARTTLS (``1``, ``true`` or ``yes``)."
    )

    # --- the operator's lifecycle (services.lifecycle.lifecycle_config) ---------------------------
    lifecycle_config: Path | None = Field(
        None, validation_alias="SELFCARE_LIFECYCLE_CONFIG", description="TOML file of the operator's terms."
    )
    print_dir: Path | None = Field(
        None, validation_alias="SELFCARE_PRINT_DIR", description="Letters to print (default ``var/print``)."
    )
    collection_dir: Path | None = Field(
        None, validation_alias="SELFCARE_COLLECTION_DIR", description="Debt collection files (``var/collection``)."
    )
    public_url: str | None = Field(
        None, validation_alias="SELFCARE_PUBLIC_URL", description="The app's address, for links in messages."
    )
    letter_fallback_hours: str | None = Field(
        None,
        validation_alias="SELFCARE_LETTER_FALLBACK_HOURS",
        description="Hours before an unread invoice goes by letter (checked by the lifecycle configuration).",
    )
    autogiro_bankgiro: str | None = Field(
        None, validation_alias="SELFCARE_AUTOGIRO_BANKGIRO", description="The payee's bankgiro number for Autogiro."
    )
    autogiro_customer_number: str | None = Field(
        None, validation_alias="SELFCARE_AUTOGIRO_CUSTOMER_NUMBER", description="Bankgirot's customer number."
    )

    @field_validator("session_idle_minutes", mode="before")
    @classmethod
    def _idle(cls, value: Any) -> int:
        return whole_number(value, 1, 24 * 60)

    @field_validator("session_max_hours", mode="before")
    @classmethod
    def _max(cls, value: Any) -> int:
        return whole_number(value, 1, 30 * 24)

    @field_validator("smtp_port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        text = str(value).strip() or "25"
        try:
            port = int(text)
        except ValueError:
            raise ValueError(f"not a port number: {text!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"out of range: {port}")
        return port

    @field_validator("smtp_starttls", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        return value if isinstance(value, bool) else str(value) in ("1", "true", "yes")

    @field_validator("agent_credit_limit_ore", mode="before")
    @classmethod
    def _ore(cls, value: Any) -> int:
        return whole_number(value, 0, 10**12)

    @field_validator("pay_return_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(h.strip().lower() for h in items if h.strip())

    # --- what the fields mean together -------------------------------------------------------------

    def deployment_env(self) -> dict[str, str]:
        """``SELFCARE_ENV`` and ``SELFCARE_JWT_SECRET`` as set, for ``selfcare_common.deployment``."""
        pairs = ((deployment.ENV_VAR, self.selfcare_env), (deployment.SECRET_VAR, self.jwt_secret))
        return {name: value for name, value in pairs if value is not None}

    @property
    def environment(self) -> str:
        """``dev``, ``test`` or ``production``."""
        return deployment.environment(self.deployment_env())

    @property
    def is_dev(self) -> bool:
        return deployment.is_dev(self.deployment_env())

    @property
    def is_production(self) -> bool:
        return deployment.is_production(self.deployment_env())

    def require_secret(self) -> str | None:
        """The JWT secret, or ``None`` in dev without one; a ``ConfigurationError`` in production without one."""
        return deployment.require_secret(self.deployment_env())

    @property
    def database_address(self) -> str:
        """``DATABASE_URL`` (``postgres://`` spelled for psycopg) or the SQLite file under the data folder."""
        url = self.database_url
        if url:
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.data_dir / 'selfcare.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use (then cached)."""
    return Settings.from_env()


def settings_for(environ: Mapping[str, str] | None = None) -> Settings:
    """The process's settings (``None``), or those ``environ`` gives (a test's mapping, not cached)."""
    return get_settings() if environ is None else Settings.from_env(environ)


def reset() -> None:
    """Forget the cached settings: the next :func:`get_settings` reads the environment again (tests)."""
    get_settings.cache_clear()
