""" "An invoice's thread changed": the one signal from the core to every open invoice page, in any worker.

The core publishes it after a message is written on an invoice's thread or the other side's
messages are marked read (``backend_stub.services.support.threads``); the app's open invoice
pages wait for it (``selfcare.thread_bus``) and then ask the core for what is new, with their own
token. The signal carries nothing but the invoice's id, so it needs no access control of its own.

How it travels:

* with ``REDIS_URL`` set (the scale path: several workers, or a standalone core beside the app),
  over Redis pub/sub on :data:`CHANNEL`, so a reply written in one worker (or in a standalone
  core given the same ``REDIS_URL``) reaches pages held by any worker;
* without it, to the listeners in this process (:func:`listen`): the embedded core and the
  app's pages share the process, and there is only one worker.

Publishing never fails the write it follows: if Redis cannot be reached, the signal is given to
this process's listeners and the app's pages fall back to polling until their subscription to
Redis is back (``selfcare.thread_bus``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)

CHANNEL = "selfcare:thread-changed"

_listeners: list[Callable[[str], object]] = []
_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()


def listen(callback: Callable[[str], object]) -> Callable[[], None]:
    """Call ``callback(invoice_id)`` for every signal published in this process; returns the way to stop."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback) if callback in _listeners else None


def publish(invoice_id: str, redis_url: str | None) -> None:
    """Tell every open page of ``invoice_id`` that its thread changed (any worker, see the module).

    ``redis_url``: the side's ``REDIS_URL`` setting (the core's ``backend_stub.settings``); None: in process."""
    url = (redis_url or "").strip() or None
    if url is not None:
        try:
            _client(url).publish(CHANNEL, invoice_id)
            return
        except redis.RedisError as exc:
            logger.warning("thread signal for %s not published on Redis: %s", invoice_id, exc)
    for callback in list(_listeners):
        callback(invoice_id)


def _client(url: str) -> redis.Redis:
    key = (os.getpid(), url)  # a forked worker opens its own connections
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return client
