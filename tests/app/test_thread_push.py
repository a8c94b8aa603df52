"""Replies are pushed to open invoice pages (selfcare.thread_bus): in process beside the embedded core, over
Redis on the scale path; a quiet page asks the core nothing while the push is live, and polls when it is not."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from selfcare import thread_bus
from selfcare.pages.invoice.thread import ThreadState
from selfcare.support_client import SupportClient
from selfcare_common import thread_signal
from tests.app.test_thread_state import _agent_token, _invoice_ids, _open, _signed_in

REDIS = "redis://127.0.0.1:6379/0"


def test_a_signal_wakes_the_pages_of_its_invoice_only(env):
    env.unset("REDIS_URL")
    env.unset("BILLING_API_URL")

    async def scenario() -> tuple[bool, bool, bool]:
        mine, other = f"inv-{uuid.uuid4()}", f"inv-{uuid.uuid4()}"
        waiting = asyncio.ensure_future(thread_bus.wait(mine, 5))
        quiet = asyncio.ensure_future(thread_bus.wait(other, 0.3))
        await asyncio.sleep(0.05)
        threading.Thread(target=thread_signal.publish, args=(mine, None)).start()  # the core's route runs in a thread
        return await waiting, await quiet, thread_bus.push_live()

    woken, other_woken, live = asyncio.run(scenario())
    assert woken and not other_woken and live  # embedded core, one process: the push is live


def test_a_signal_between_a_read_and_the_wait_is_not_lost(env):
    env.unset("REDIS_URL")
    invoice = f"inv-{uuid.uuid4()}"

    async def scenario() -> bool:
        seen = thread_bus.version(invoice)  # the page reads the version, then asks the core …
        thread_signal.publish(invoice, None)  # … while a reply is written
        return await thread_bus.wait(invoice, 0.2, seen)

    assert asyncio.run(scenario())


def test_a_standalone_core_without_redis_means_polling(env):
    env.unset("REDIS_URL")
    env.set("BILLING_API_URL", "http://core.invalid")
    assert asyncio.run(thread_bus.wait(f"inv-{uuid.uuid4()}", 0.01)) is False
    assert not thread_bus.push_live()


def test_the_signal_travels_over_redis_between_processes(env):
    """On the scale path the core publishes on Redis and every worker's listener wakes its pages."""
    env.set("REDIS_URL", REDIS)
    invoice = f"inv-{uuid.uuid4()}"

    async def scenario() -> tuple[bool, bool]:
        thread_bus.ensure_listening()
        for _ in range(100):
            if thread_bus.push_live():
                break
            await asyncio.sleep(0.02)
        live = thread_bus.push_live()
        waiting = asyncio.ensure_future(thread_bus.wait(invoice, 5))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(thread_signal.publish, invoice, REDIS)  # as a core in another worker would
        return live, await waiting

    live, woken = asyncio.run(scenario())
    assert live and woken
    assert not thread_bus.push_live()  # the loop ended: its subscription with it


def test_a_quiet_page_asks_the_core_nothing_and_a_reply_still_arrives(client, env, monkeypatch):
    env.unset("REDIS_URL")
    monkeypatch.setattr(thread_bus, "IDLE_CHECK_S", 0.05)  # a quiet page wakes often: it must still not ask
    own = _invoice_ids(client, 2)[-1]  # an invoice no other test of this shared core writes on
    root = _signed_in(2)
    thread = _open(root, own)
    asked: list[str] = []
    real = SupportClient.thread

    async def counted(self, token, invoice_id, after=None):
        asked.append(invoice_id)
        return await real(self, token, invoice_id, after=after)

    monkeypatch.setattr(SupportClient, "thread", counted)

    async def scenario() -> tuple[int, list]:
        poll = ThreadState.poll.fn(thread)
        first = asyncio.ensure_future(poll.__anext__())
        await asyncio.sleep(0.6)  # about 12 idle wake-ups
        quiet_calls = len(asked)
        await SupportClient(client).post_message(_agent_token(), own, "Push, not poll.")
        update = await asyncio.wait_for(first, 5)
        ThreadState.stop.fn(thread)
        return quiet_calls, [update, *[u async for u in poll]]

    quiet_calls, updates = asyncio.run(scenario())
    assert quiet_calls == 1  # once at the start (anything written before the loop), then nothing
    assert "open_invoice" in repr(updates[0])
    assert [m["text"] for m in thread._raw][-1] == "Push, not poll."


@pytest.fixture(autouse=True)
def _no_listener_left():
    yield
    thread_signal._listeners[:] = [cb for cb in thread_signal._listeners if cb is thread_bus.notify]
