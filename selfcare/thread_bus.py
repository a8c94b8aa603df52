"""Wake-ups for open invoice pages when their thread changes, so a reply shows at once.

The subscriber's page polls the core for new messages (``ThreadState.poll``) every
``SELFCARE_THREAD_POLL_S`` seconds; when an agent answers through this app's console in
the same backend worker, :func:`notify` wakes those polls right away instead of at their
next tick. Replies from elsewhere (another worker, the core's API) still arrive by the poll.
Nothing here carries data: a wake-up only makes the page ask the core (with its own token).
:func:`client_connected` tells the live refreshes (the invoice page's thread, the console's inbox)
when their browser tab is gone, so they stop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from selfcare.settings import get_settings

_waiters: dict[str, set[asyncio.Event]] = defaultdict(set)


def poll_interval_s() -> float:
    """Seconds between polls of an open thread (``SELFCARE_THREAD_POLL_S``, default 1.0, at least 0.2)."""
    return get_settings().thread_poll_s


def notify(invoice_id: str) -> int:
    """Wake every open page of ``invoice_id`` in this worker; returns how many were waiting."""
    events = _waiters.get(invoice_id) or set()
    for event in events:
        event.set()
    return len(events)


async def wait(invoice_id: str, timeout: float) -> bool:
    """Sleep up to ``timeout`` seconds or until :func:`notify` for ``invoice_id``; True if woken."""
    event = asyncio.Event()
    _waiters[invoice_id].add(event)
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except TimeoutError:
        return False
    finally:
        waiters = _waiters.get(invoice_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                _waiters.pop(invoice_id, None)


async def client_connected(token: str) -> bool:
    """Whether the browser tab ``token`` still has its socket open (True when it cannot be told)."""
    if not token:  # no browser behind this state (a direct call): the other stop conditions apply
        return True
    try:
        from reflex_base.registry import RegistrationContext

        app = RegistrationContext.get().app
        namespace = app.event_namespace if app is not None else None
        manager = getattr(namespace, "_token_manager", None)
        if manager is None:
            return True
        return bool(await manager.is_token_connected(token))
    except Exception:  # outside a running app (unit tests): rely on the other stop conditions
        return True
