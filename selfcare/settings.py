"""The app's settings: every environment variable the Reflex app (and ``rxconfig.py``) reads, typed and read once.

The app cannot import the core, so it has its own class; both derive from
``selfcare_common.env_settings.EnvSettings`` and both ask ``selfcare_common.deployment`` what ``SELFCARE_ENV``
means (production unless it is exactly ``dev`` or ``test``). :func:`get_settings` reads the environment on
first use and caches it; a bad value is a ``deployment.ConfigurationError`` naming the variable. Tests that
change the environment call :func:`reset` (``tests/conftest.py``'s ``env`` fixture does).

The core's own variables (``DATABASE_URL``, the session limits …) are the core's settings
(``backend_stub.settings``), read by the embedded core itself.
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


def _address(value: str | None) -> str:
    return (value or "").strip().rstrip("/")


class AppSettings(EnvSettings):
    """What the environment says to the app, one field per variable (the README's table lists them)."""

    selfcare_env: str | None = Field(
        None,
        validation_alias=deployment.ENV_VAR,
        description="``dev`` or ``test`` turn on development conveniences; anything else (unset too) is production.",
    )
    jwt_secret: str | None = Field(
        None,
        repr=False,
        validation_alias=deployment.SECRET_VAR,
        description="The HMAC secret shared with the core (required in production).",
    )
    jwt_issuer: str = Field("selfcare-core", validation_alias="SELFCARE_JWT_ISSUER", description="Tokens' ``iss``.")
    jwt_audience: str = Field("selfcare-api", validation_alias="SELFCARE_JWT_AUDIENCE", description="Tokens' ``aud``.")
    billing_api_url: str | None = Field(
        None,
        validation_alias="BILLING_API_URL",
        description="A standalone core's address; unset: the core is embedded in the app's backend.",
    )
    billing_api_public_url: str | None = Field(
        None,
        validation_alias="BILLING_API_PUBLIC_URL",
        description="Where browsers reach the standalone core (default: ``BILLING_API_URL``).",
    )
    core_public_url: str | None = Field(
        None, validation_alias="SELFCARE_CORE_PUBLIC_URL", description="Where browsers reach the core (wins)."
    )
    public_url: str | None = Field(
        None, validation_alias="SELFCARE_PUBLIC_URL", description="The address the browser uses for the app."
    )
    app_url: str | None = Field(
        None,
        validation_alias="SELFCARE_APP_URL",
        description="The app's own address when a request does not say it (the payment provider's way back).",
    )
    brand_file: Path | None = Field(
        None, validation_alias="SELFCARE_BRAND_FILE", description="The brand's TOML file (default: the demo's)."
    )
    thread_poll_s: float = Field(
        1.0,
        validation_alias="SELFCARE_THREAD_POLL_S",
        description="Seconds between polls of an open invoice thread (at least 0.2; a bad value is 1.0).",
    )
    trusted_proxies: str | None = Field(
        None,
        validation_alias="SELFCARE_TRUSTED_PROXIES",
        description="Comma-separated reverse proxies whose X-Forwarded-For is believed (``selfcare.client_address``).",
    )
    port: int | None = Field(
        None, validation_alias="SELFCARE_PORT", description="Production mode: the one port of frontend and backend."
    )
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        validation_alias="SELFCARE_ALLOWED_ORIGINS",
        description="Comma-separated extra origins allowed by CORS and the websocket.",
    )
    redis_url: str | None = Field(
        None, validation_alias="REDIS_URL", description="Reflex's state manager in Redis (several workers)."
    )

    @field_validator("thread_poll_s", mode="before")
    @classmethod
    def _poll(cls, value: Any) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = 1.0
        return max(0.2, seconds)

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int | None:
        return None if value is None else whole_number(value, 1, 65535)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(o.strip() for o in items if o.strip())

    def deployment_env(self) -> dict[str, str]:
        """``SELFCARE_ENV`` and ``SELFCARE_JWT_SECRET`` as set, for ``selfcare_common.deployment``."""
        pairs = ((deployment.ENV_VAR, self.selfcare_env), (deployment.SECRET_VAR, self.jwt_secret))
        return {name: value for name, value in pairs if value is not None}

    @property
    def is_dev(self) -> bool:
        return deployment.is_dev(self.deployment_env())

    def require_secret(self) -> str | None:
        """The JWT secret, or ``None`` in dev without one; a ``ConfigurationError`` in production without one."""
        return deployment.require_secret(self.deployment_env())

    @property
    def standalone_core_url(self) -> str | None:
        """``BILLING_API_URL`` without a trailing slash, or None when the core is embedded."""
        return _address(self.billing_api_url) or None


@lru_cache(maxsize=1)
def get_settings() -> AppSettings:
    """The app's settings, read from the environment on first use (then cached)."""
    return AppSettings.from_env()


def settings_for(environ: Mapping[str, str] | None = None) -> AppSettings:
    """The process's settings (``None``), or those ``environ`` gives (a test's mapping, not cached)."""
    return get_settings() if environ is None else AppSettings.from_env(environ)


def reset() -> None:
    """Forget the cached settings: the next :func:`get_settings` reads the environment again (tests)."""
    get_settings.cache_clear()
