"""Which deployment this process is: what ``SELFCARE_ENV`` means, for both sides.

Production is the default. Only two exact values are not production:

* ``dev``: the demo and local development (``make demo``, ``make serve``). Dev conveniences exist
  only here: the ``/dev/outbox`` route and page that show sent sign-in codes, a random per-process
  JWT secret when ``SELFCARE_JWT_SECRET`` is missing, ``SELFCARE_CLOCK``.
* ``test``: the test suite (``tests/conftest.py``); the same conveniences as ``dev`` under a name
  that says what the process is.

Anything else (unset, empty, ``prod``, ``staging``, ``Dev``, ``dev `` …) is production, where the
core's server and the app refuse to start without a JWT secret of at least 32 bytes
(:func:`require_secret`). Pure: no I/O, no framework imports; the app may import it too. The variables
themselves are read by each side's settings (``backend_stub.settings``, ``selfcare.settings``), which hand
them here as a mapping (``settings.deployment_env()``).
"""

from __future__ import annotations

from collections.abc import Mapping

ENV_VAR = "SELFCARE_ENV"
SECRET_VAR = "SELFCARE_JWT_SECRET"

DEV = "dev"
TEST = "test"
PRODUCTION = "production"

NON_PRODUCTION = frozenset({DEV, TEST})
"""The exact ``SELFCARE_ENV`` values that are not production (no case folding, no trimming)."""

MIN_SECRET_BYTES = 32
"""HMAC secrets shorter than the hash output are brute-forceable offline (RFC 7518 §3.2)."""


class ConfigurationError(ValueError):
    """The process must not start as configured; the message names the variable to set."""


def environment(environ: Mapping[str, str]) -> str:
    """``dev``, ``test`` or ``production`` (the default, and what every other value means)."""
    value = environ.get(ENV_VAR, "")
    return value if value in NON_PRODUCTION else PRODUCTION


def is_dev(environ: Mapping[str, str]) -> bool:
    """Dev conveniences are on (``SELFCARE_ENV`` is exactly ``dev`` or ``test``)."""
    return environment(environ) != PRODUCTION


def is_production(environ: Mapping[str, str]) -> bool:
    return environment(environ) == PRODUCTION


def require_secret(environ: Mapping[str, str]) -> str | None:
    """The JWT secret, checked before a server starts; ``None`` in dev without one (a random one is used).

    Outside dev a missing or short secret raises :class:`ConfigurationError` naming ``SELFCARE_JWT_SECRET``
    (and saying what ``SELFCARE_ENV`` made this deployment, in case it was meant to be the demo).
    """
    env = environ
    secret = env.get(SECRET_VAR) or ""
    if secret and len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{SECRET_VAR} is too short: it needs at least {MIN_SECRET_BYTES} bytes "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if secret:
        return secret
    if is_dev(env):
        return None
    shown = f"{ENV_VAR}={env[ENV_VAR]!r}" if ENV_VAR in env else f"{ENV_VAR} unset"
    raise ConfigurationError(
        f"{SECRET_VAR} is not set: outside development it must hold a secret of at least {MIN_SECRET_BYTES} "
        f"bytes ({shown} means production; only {ENV_VAR}=dev or {ENV_VAR}=test is not). "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )
