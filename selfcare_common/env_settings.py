"""The base of both sides' settings classes: environment variables read by ``pydantic-settings``.

``backend_stub.settings.Settings`` (the core) and ``selfcare.settings.AppSettings`` (the app) derive from
:class:`EnvSettings`: one field per variable, named by ``validation_alias`` exactly as it is spelled in the
environment (case-sensitive), an empty variable counting as unset. ``from_env(mapping)`` reads a given
mapping instead of the process environment (tests), and a bad value is a
``deployment.ConfigurationError`` (a ``ValueError``) naming the variable: ``SELFCARE_SMTP_PORT: out of
range: 0``. This is the one place that reads ``os.environ`` (``selfcare_common.deployment`` says what
``SELFCARE_ENV`` means).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Self

from pydantic import ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from selfcare_common.deployment import ConfigurationError

_SOURCE: ContextVar[Mapping[str, str] | None] = ContextVar("env_settings_source", default=None)


class _Environment(EnvSettingsSource):
    """The process environment, or the mapping ``from_env`` was given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _SOURCE.get()
        env = os.environ if given is None else given
        return {name: value for name, value in env.items() if value != "" or not self.env_ignore_empty}


class EnvSettings(BaseSettings):
    """Settings from environment variables: exact names, empty is unset, frozen once read."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environment(settings_cls))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read ``environ`` (default: the process environment), not cached; a bad value is a
        ``ConfigurationError`` naming the variable."""
        token = _SOURCE.set(environ)
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigurationError(message(exc)) from None
        finally:
            _SOURCE.reset(token)


def message(exc: ValidationError) -> str:
    """``VARIABLE: what is wrong`` for each bad variable (pydantic's own words without its prefix)."""
    parts = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error.get("loc", ())) or "settings"
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{name}: {msg}")
    return "; ".join(parts)


def whole_number(value: Any, low: int, high: int) -> int:
    """A whole number in ``low..high`` (the error puts the variable's name before the message)."""
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{number} is outside {low}..{high}")
    return number
