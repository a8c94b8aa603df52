"""``/dev/outbox``: the messages the demo would have sent (sign-in codes, invoice links)."""

from __future__ import annotations

import logging

import reflex as rx

from selfcare.api_client import ApiError, get_client
from selfcare.settings import get_settings
from selfcare.state.typed import event

logger = logging.getLogger(__name__)


def dev_outbox_enabled() -> bool:
    """The demo's outbox page and state exist only with ``SELFCARE_ENV=dev`` (or ``test``); production
    is the default (``selfcare.settings``, ``selfcare_common.deployment``)."""
    return get_settings().is_dev


class OutboxState(rx.State):
    """``/dev/outbox``: the messages the demo would have sent (sign-in codes, invoice links)."""

    messages: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    available: rx.Field[bool] = rx.field(True)

    @event
    async def load(self):
        self.available = dev_outbox_enabled()
        if not self.available:
            self.messages = []
            return
        try:
            rows = await get_client().dev_outbox(limit=20)
        except ApiError as exc:
            logger.info("outbox: %s", exc)
            rows = []
        self.messages = [
            {
                "id": str(r.get("id", "")),
                "channel": str(r.get("channel", "")),
                "to": str(r.get("to", "")),
                "subject": str(r.get("subject", "") or ""),
                "text": str(r.get("text", "")),
                "at": str(r.get("created_at", ""))[:19].replace("T", " "),
            }
            for r in rows
        ]
