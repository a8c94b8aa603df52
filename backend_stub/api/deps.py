"""What the routers of the core API share: the core of a request, blocking work off the event loop, the
operator's lifecycle configuration and the (test) payment provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from functools import partial

import httpx
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse

from backend_stub.core import Core
from backend_stub.services.lifecycle import paygw
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from selfcare_common import deployment


def core_of(request: Request) -> Core:
    """The core this app was made with (``create_app``)."""
    return request.app.state.core


async def run(fn, *args, **kwargs):
    """Database work runs in a worker thread so the event loop stays free."""
    return await asyncio.to_thread(partial(fn, *args, **kwargs))


def lifecycle_config(request: Request) -> LifecycleConfig:
    """The operator's lifecycle configuration, read from the environment once per app."""
    cfg = getattr(request.app.state, "lifecycle_config", None)
    if cfg is None:
        cfg = LifecycleConfig.from_env()
        request.app.state.lifecycle_config = cfg
    return cfg


def small_balance_ore(request: Request) -> int:
    """The operator's minimum open balance (the lifecycle configuration the lifecycle routes use)."""
    cfg = getattr(request.app.state, "lifecycle_config", None) or LifecycleConfig.from_env()
    return cfg.dunning.small_balance_ore


def payment_provider(request: Request) -> paygw.TestPayProvider:
    """The app's payment provider: TestPay with ``SELFCARE_PAYGW_SECRET`` (outside production a secret derived
    from the JWT secret); 503 in production without one."""
    provider = getattr(request.app.state, "paygw", None)
    if provider is None:
        secret = os.environ.get("SELFCARE_PAYGW_SECRET")
        if not secret:
            if deployment.is_production():
                raise HTTPException(503, "the payment provider is not configured (SELFCARE_PAYGW_SECRET)")
            secret = hmac.new(
                request.app.state.auth_settings.secret.encode(), b"testpay-webhook", hashlib.sha256
            ).hexdigest()
        provider = request.app.state.paygw = paygw.TestPayProvider(
            core_of(request).engine, secret, overpayment=LifecycleConfig.from_env().dunning.overpayment
        )
    return provider


async def deliver_testpay_webhook(request: Request, signature: str, body: bytes) -> bool:
    """The provider calls the merchant's webhook over HTTP (here: the same ASGI app, in process); True if taken."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url="http://core") as client:
        answer = await client.post(
            "/payments/webhook/testpay",
            content=body,
            headers={paygw.SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
        )
    return answer.status_code == 200


def back_to_merchant(return_url: str, key: str, outcome: str) -> RedirectResponse:
    """The provider sends the payer back to the (allow-listed) return address with the outcome."""
    sep = "&" if "?" in return_url else "?"
    return RedirectResponse(f"{return_url}{sep}{key}={outcome}", status_code=303)
