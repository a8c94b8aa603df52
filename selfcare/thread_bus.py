"""Wake-ups for open invoice pages when their thread changes, pushed from the core.

The core publishes "this invoice's thread changed" after every message and read mark
(:mod:`selfcare_common.thread_signal`); each backend worker listens once (on Redis with
``REDIS_URL``, else in process beside the embedded core) and wakes the pages it holds for that
invoice (:func:`wait`), which then ask the core for what is new with their own token. Nothing
here carries data.

While the push is live (:func:`push_live`) an open page makes no call to the core unless woken,
so thousands of idle invoice pages cost the core nothing. When it is not (a standalone core
without ``REDIS_URL``, or Redis down), pages poll every ``SELFCARE_THREAD_POLL_S`` seconds as
before; when the Redis subscription comes back every page is woken once, in case a signal was
missed while it was down. :func:`client_connected` tells the live refreshes (the invoice
page's thread, the console's inbox) when their browser tab is gone, so they stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict

from selfcare.embedding import is_embedded
from selfcare.settings import get_settings
from selfcare_common import thread_signal

logger = logging.getLogger(__name__)

IDLE_CHECK_S = 30.0
"""How often a page whose thread is quiet checks that its tab is still open (no call to the core)."""
MAX_VERSIONS = 100_000  # invoices whose latest signal this worker remembers (oldest forgotten first)

_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
_versions: OrderedDict[str, int] = OrderedDict()
_listening: dict[asyncio.AbstractEventLoop, asyncio.Task[None] | None] = {}  # the Redis listener per loop
_in_process = {"listening": False}
_live = {"push": False}


def poll_interval_s() -> float:
    """Seconds between polls of an open thread while the push is not live (``SELFCARE_THREAD_POLL_S``, ≥ 0.2)."""
    return get_settings().thread_poll_s


def push_live() -> bool:
    """Whether a change to any thread wakes this worker's pages (then quiet pages need not ask the core)."""
    return _live["push"]


def version(invoice_id: str) -> int:
    """How many signals this worker has had for ``invoice_id``: read it before asking the core, then pass it
    to :func:`wait`, so a signal that arrives in between is not lost (listening starts here at the latest)."""
    ensure_listening()
    return _versions.get(invoice_id, 0)


def notify(invoice_id: str) -> int:
    """Wake every open page of ``invoice_id`` in this worker (safe from any thread); returns how many waited."""
    _versions[invoice_id] = _versions.get(invoice_id, 0) + 1
    _versions.move_to_end(invoice_id)
    while len(_versions) > MAX_VERSIONS:
        _versions.popitem(last=False)
    waiters = list(_waiters.get(invoice_id) or ())
    for loop, event in waiters:
        loop.call_soon_threadsafe(event.set)
    return len(waiters)


def _notify_all() -> None:
    for invoice_id in list(_waiters):
        notify(invoice_id)


async def wait(invoice_id: str, timeout: float, seen: int | None = None) -> bool:
    """Sleep up to ``timeout`` seconds or until the thread of ``invoice_id`` changes; True if it did.

    ``seen``: the :func:`version` read before the page last asked the core; a change since then
    returns at once.
    """
    ensure_listening()
    if seen is not None and version(invoice_id) != seen:
        return True
    loop = asyncio.get_running_loop()
    entry = (loop, asyncio.Event())
    _waiters[invoice_id].add(entry)
    try:
        await asyncio.wait_for(entry[1].wait(), timeout)
        return True
    except TimeoutError:
        return False
    finally:
        waiters = _waiters.get(invoice_id)
        if waiters is not None:
            waiters.discard(entry)
            if not waiters:
                _waiters.pop(invoice_id, None)


def ensure_listening() -> None:
    """Start this worker's listening to the core's signals, once per event loop."""
    url = (get_settings().redis_url or "").strip() or None
    if url is None:
        if not _in_process["listening"]:
            thread_signal.listen(notify)  # once per process
            _in_process["listening"] = True
        _live["push"] = is_embedded()  # a standalone core without Redis cannot reach this process
        return
    loop = asyncio.get_running_loop()
    task = _listening.get(loop)
    if task is None or task.done():
        for old in [old for old in _listening if old.is_closed()]:
            del _listening[old]
        _listening[loop] = loop.create_task(_listen_on_redis(url), name="selfcare-thread-signal")


async def _listen_on_redis(url: str) -> None:
    """Subscribe to the signal channel for as long as the worker runs, reconnecting after a failure."""
    import redis.asyncio as aioredis

    delay = 0.5
    while True:
        client = aioredis.Redis.from_url(url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(thread_signal.CHANNEL)
                _live["push"] = True
                delay = 0.5
                _notify_all()  # anything missed while the subscription was down
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message["data"]
                        notify(data.decode() if isinstance(data, bytes) else str(data))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis down or the connection cut: poll until it is back
            logger.warning("thread signals: Redis subscription lost (%s); pages poll until it is back", exc)
        finally:
            _live["push"] = False
            await client.aclose()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


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
