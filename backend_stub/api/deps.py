"""What the routers of the core API share: the core of a request, the settings it was made with
(``backend_stub.settings``), blocking work off the event loop, the operator's lifecycle configuration and
the (test) payment provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from functools import partial

import httpx
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse

from backend_stub.api.auth import ensure_customer_access
from backend_stub.core import Core
from backend_stub.services.access.tokens import Principal
from backend_stub.services.charges import addons
from backend_stub.services.lifecycle import paygw
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.settings import Settings


def core_of(request: Request) -> Core:
    """The core this app was made with (``create_app``)."""
    return request.app.state.core


def settings_of(request: Request) -> Settings:
    """The settings this app was made with (``create_app``; read once from the environment)."""
    return request.app.state.settings


async def run(fn, *args, **kwargs):
    """Database work runs in a worker thread so the event loop stays free."""
    return await asyncio.to_thread(partial(fn, *args, **kwargs))


def lifecycle_config(request: Request) -> LifecycleConfig:
    """The operator's lifecycle configuration, built from the app's settings once per app."""
    cfg = getattr(request.app.state, "lifecycle_config", None)
    if cfg is None:
        cfg = LifecycleConfig.from_settings(settings_of(request))
        request.app.state.lifecycle_config = cfg
    return cfg


def small_balance_ore(request: Request) -> int:
    """The operator's minimum open balance (the lifecycle configuration the lifecycle routes use)."""
    return lifecycle_config(request).dunning.small_balance_ore


def payment_provider(request: Request) -> paygw.TestPayProvider:
    """The app's payment provider: TestPay with ``SELFCARE_PAYGW_SECRET`` (outside production a secret derived
    from the JWT secret); 503 in production without one."""
    provider = getattr(request.app.state, "paygw", None)
    if provider is None:
        secret = settings_of(request).paygw_secret
        if not secret:
            if settings_of(request).is_production:
                raise HTTPException(503, "the payment provider is not configured (SELFCARE_PAYGW_SECRET)")
            secret = hmac.new(
                request.app.state.auth_settings.secret.encode(), b"testpay-webhook", hashlib.sha256
            ).hexdigest()
        provider = request.app.state.paygw = paygw.TestPayProvider(
            core_of(request).engine, secret, overpayment=lifecycle_config(request).dunning.overpayment
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


async def owned_subscription(request: Request, principal: Principal, subscription_id: int) -> int:
    """The subscription's customer, when ``principal`` may reach it; else 404 "subscription not found", the same
    answer as for one that does not exist (marketing: 403)."""
    customer_id = await run(addons.subscription_customer, core_of(request).engine, subscription_id)
    if customer_id is None:
        raise HTTPException(404, "subscription not found")
    try:
        ensure_customer_access(principal, customer_id)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise HTTPException(404, "subscription not found") from None
        raise
    return customer_id
