"""Staff sign-in, shared by the support console (``/agent``) and the marketing console (``/marketing``).

Both sign in with a username and password through the core (``/agent-auth/login``, which
rate-limits and audits every try); each console keeps only the roles it serves and logs any
other session straight out again, so a token never outlives a refused sign-in.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from selfcare.api_client import ApiError, RateLimited, Unauthorized
from selfcare.i18n import gettext
from selfcare.support_client import Forbidden, support_client

logger = logging.getLogger(__name__)


def live_token(state: Any) -> str:
    """A console session's token, or ``""`` (never signed in, signed out or expired: then dropped)."""
    if state._token and time.time() < state._expires_at:
        return state._token
    if state._token:
        state._drop()
    return ""


def check_credentials(form: Any, lang: str) -> tuple[str, str, str]:
    """``(username, password, error)``: the form's fields, or an error naming the missing one."""
    username = form.get("username") if isinstance(form, dict) else None
    password = form.get("password") if isinstance(form, dict) else None
    if not isinstance(username, str) or not username.strip() or len(username) > 64:
        return "", "", gettext(lang, "Username: fill in your username.")
    if not isinstance(password, str) or not password or len(password) > 256:
        return "", "", gettext(lang, "Password: fill in your password.")
    return username.strip(), password, ""


async def staff_sign_in(username: str, password: str, *, client_ip: str, roles: tuple[str, ...],
                        refused_text: str, lang: str, console: str) -> tuple[dict[str, Any] | None, str]:
    """``(the core's answer, "")`` for an account with one of ``roles``, else ``(None, error text)``."""
    try:
        answer = await support_client().agent_login(username, password, client=client_ip or None)
    except RateLimited as exc:
        return None, gettext(lang, "Too many tries. Try again in {minutes} minutes.",
                             minutes=max(1, -(-exc.retry_after // 60)))
    except (Unauthorized, Forbidden):
        return None, gettext(lang, "Wrong username or password.")
    except ApiError as exc:
        logger.warning("%s sign-in: %s", console, exc)
        return None, gettext(lang, "Sign-in is not possible just now. Please try again.")
    if answer.get("role") not in roles:
        # The other console's account: its session is not kept here.
        try:
            await support_client().logout(str(answer.get("access_token") or ""))
        except ApiError as exc:
            logger.info("logout of a refused %s session: %s", console, exc)
        return None, gettext(lang, refused_text)
    return answer, ""
