"""``/agent/audit``: the core's audit log of the support console, for supervisors only."""

from __future__ import annotations

import json
import logging
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, Unauthorized
from selfcare.i18n import format_datetime, gettext
from selfcare.pages.agent.state import AgentSessionState
from selfcare.state.typed import event
from selfcare.support_client import Forbidden, support_client

logger = logging.getLogger(__name__)

AUDIT_ROUTE = "/agent/audit"
AUDIT_ACTIONS = (
    "",
    "sign_in",
    "sign_in_failed",
    "view",
    "reply",
    "assign",
    "resolve",
    "credit",
    "credit_refused",
    "waive_fee",
)


def audit_row(e: dict[str, Any], lang: str) -> dict[str, str]:
    detail = e.get("detail")
    return {
        "id": str(e.get("id", "")),
        "at": format_datetime(e["at"], lang) if e.get("at") else "",
        "actor": str(e.get("actor", "")),
        "action": str(e.get("action", "")),
        "target": str(e.get("target", "")),
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
    }


class AuditState(rx.State):
    """``/agent/audit``: the audit log, for supervisors only."""

    rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)
    action: rx.Field[str] = rx.field("")
    allowed: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    @event
    async def load(self):
        """on_load of ``/agent/audit``."""
        await self._load()

    @event
    async def set_action(self, value: str):
        self.action = value if value in AUDIT_ACTIONS else ""
        await self._load()

    async def _load(self) -> None:
        agent, token, lang = await AgentSessionState.of(self)
        self.rows, self.total, self.error = [], 0, ""
        self.allowed = bool(token) and agent.is_supervisor
        if not self.allowed:
            return
        try:
            answer = await support_client().audit(token, action=self.action or None, limit=200)
        except Forbidden:
            self.allowed = False
            return
        except Unauthorized:  # the log's own page: dropped, without the console's "your session has ended"
            agent._drop()
            self.allowed = False
            return
        except ApiError as exc:
            logger.warning("audit: %s", exc)
            self.error = gettext(lang, "The audit log could not be loaded just now. Please try again.")
            return
        self.rows = [audit_row(e, lang) for e in answer.get("items") or []]
        self.total = int(answer.get("total") or 0)
