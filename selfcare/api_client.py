"""The app's one door into the core: an async httpx client whose methods are docs/api-app.md.

Embedded (default): the core's ASGI app runs inside the Reflex backend and is reached in
process through ``httpx.ASGITransport``. Standalone: ``BILLING_API_URL`` points at a core
served elsewhere. Same contract, two transports; the app never imports core internals.

Errors are typed: :class:`NotFound` (the core answers 404 for missing *and* for other
subscribers' data, and so does the app), :class:`Unauthorized` (expired or revoked token),
:class:`RateLimited`, and :class:`ApiError` for the rest.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from selfcare.settings import get_settings

logger = logging.getLogger(__name__)

SERVICE_SUBJECT = "selfcare-app"
SERVICE_TTL_S = 300
_INVOICE_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ApiError(Exception):
    """The core refused or failed a call. ``status`` is the HTTP status (0: unreachable)."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"core answered {status}: {detail}" if detail else f"core answered {status}")
        self.status = status
        self.detail = detail


class NotFound(ApiError):
    """Missing, or not this subscriber's: one answer for both."""


class LinkGone(NotFound):
    """An invoice link that has expired or been revoked; ``invoice_id`` is the invoice it was for."""

    def __init__(self, status: int, detail: str = "", invoice_id: str = "") -> None:
        super().__init__(status, detail)
        self.invoice_id = invoice_id


class Unauthorized(ApiError):
    """The token is missing, expired or revoked."""


class RateLimited(ApiError):
    """Too many tries; ``retry_after`` seconds to wait."""

    def __init__(self, status: int, detail: str = "", retry_after: int = 60) -> None:
        super().__init__(status, detail)
        self.retry_after = retry_after


def detail_text(detail: Any) -> str:
    """The core's ``detail`` as one line: a string as it is; a 422's list (``[{"loc": ["body", "amount_ore"],
    "msg": …}]``) as ``amount_ore: …`` items, the field named without where it was sent."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(x) for x in item.get("loc") or [] if x not in ("body", "query", "path", "header")]
                msg = str(item.get("msg") or "invalid")
                parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
        return "; ".join(parts)
    return "" if detail is None else str(detail)


def valid_invoice_id(value: object) -> bool:
    """Invoice ids are UUIDs; anything else never reaches a URL."""
    if not isinstance(value, str) or not _INVOICE_ID.match(value):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def valid_period(value: object) -> bool:
    return isinstance(value, str) and bool(_PERIOD.match(value))


def _jwt_secret() -> str:
    """The shared HS256 secret. In development (``SELFCARE_ENV=dev``/``test``) without one, make one for
    this process and publish it in the environment so that the embedded core (built later) uses the
    same; anywhere else a missing secret is a ``deployment.ConfigurationError`` naming the variable."""
    global _dev_secret
    secret = get_settings().require_secret()
    if secret:
        return secret
    if _dev_secret is None:
        _dev_secret = secrets.token_urlsafe(48)
        # The one write to the environment: the embedded core (built later in this process) reads its
        # settings from it, so both sides sign and check with the same development secret.
        os.environ["SELFCARE_JWT_SECRET"] = _dev_secret
        logger.warning("SELFCARE_JWT_SECRET is not set: using a random secret for this process (development only)")
    return _dev_secret


_dev_secret: str | None = None


class ServiceToken:
    """The app's own short-lived ``service`` token for calls that act for nobody yet."""

    def __init__(self) -> None:
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            now = time.time()
            if now < self._expires - 30:
                return self._token
            iat = int(now)
            claims = {
                "sub": SERVICE_SUBJECT,
                "role": "service",
                "jti": uuid.uuid4().hex,
                "iat": iat,
                "nbf": iat,
                "exp": iat + SERVICE_TTL_S,
                "iss": get_settings().jwt_issuer,
                "aud": get_settings().jwt_audience,
            }
            self._token = jwt.encode(claims, _jwt_secret(), algorithm="HS256")
            self._expires = iat + SERVICE_TTL_S
            return self._token


def _embedded_transport() -> httpx.AsyncBaseTransport:
    from selfcare.embedding import core_asgi_app

    _jwt_secret()  # before the core reads its settings, so both sides share the secret
    return httpx.ASGITransport(app=core_asgi_app())


def core_public_base() -> str:
    """The URL prefix under which the *browser* reaches the core (for the pay page)."""
    from selfcare.embedding import core_public_base as infra_base

    return infra_base().rstrip("/")


class CoreClient:
    """Async client of the core API. Every subscriber call takes that subscriber's token."""

    def __init__(
        self, base_url: str | None = None, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 15.0
    ) -> None:
        base_url = base_url if base_url is not None else (get_settings().billing_api_url or "")
        if not base_url:
            transport = transport or _embedded_transport()
            base_url = "http://core"
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)
        self._service = ServiceToken()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing -----------------------------------------------------------------------------

    async def _call(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        if not token:
            raise Unauthorized(401, "no session")
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            resp = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            logger.warning("core unreachable: %s %s: %s", method, path, exc)
            raise ApiError(0, "core unreachable") from None
        if resp.status_code < 400:
            return resp
        detail = ""
        body = None
        try:
            body = resp.json()
            detail = detail_text(body.get("detail")) if isinstance(body, dict) else ""
        except ValueError:
            detail = resp.text[:200]
        if resp.status_code == 410 and isinstance(body, dict) and isinstance(body.get("detail"), dict):
            invoice_id = str(body["detail"].get("invoice_id") or "")
            raise LinkGone(
                410, str(body["detail"].get("reason", "")), invoice_id if valid_invoice_id(invoice_id) else ""
            )
        if resp.status_code == 404:
            raise NotFound(404, detail)
        if resp.status_code in (401, 403):
            raise Unauthorized(resp.status_code, detail)
        if resp.status_code == 429:
            try:
                retry = int(resp.headers.get("Retry-After", "60"))
            except ValueError:
                retry = 60
            raise RateLimited(429, detail, retry)
        raise ApiError(resp.status_code, detail)

    async def _json(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        resp = await self._call(method, path, token, **kwargs)
        return resp.json() if resp.content else None

    @staticmethod
    def _invoice_path(invoice_id: str, suffix: str = "") -> str:
        if not valid_invoice_id(invoice_id):
            raise NotFound(404, "invoice not found")
        return f"/invoices/{quote(invoice_id, safe='')}{suffix}"

    # -- sign-in ------------------------------------------------------------------------------

    @staticmethod
    def _for_client(client_ip: str) -> dict[str, str]:
        """The browser's address for the core's throttling (``selfcare.client_address``)."""
        return {"X-Selfcare-Client-IP": client_ip[:64]} if client_ip else {}

    async def otp_request(self, identifier: str, client_ip: str = "") -> dict[str, Any]:
        return await self._json(
            "POST",
            "/auth/otp/request",
            self._service.get(),
            json={"identifier": identifier},
            headers=self._for_client(client_ip),
        )

    async def otp_verify(self, identifier: str, code: str, client_ip: str = "") -> dict[str, Any]:
        return await self._json(
            "POST",
            "/auth/otp/verify",
            self._service.get(),
            json={"identifier": identifier, "code": code},
            headers=self._for_client(client_ip),
        )

    async def logout(self, token: str) -> None:
        await self._call("POST", "/auth/logout", token)

    async def dev_outbox(self, to: str = "", limit: int = 20) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if to:
            params["to"] = to
        return await self._json("GET", "/dev/outbox", self._service.get(), params=params)

    # -- invoice links ------------------------------------------------------------------------

    async def create_link(self, token: str, invoice_id: str) -> dict[str, Any]:
        return await self._json("POST", self._invoice_path(invoice_id, "/link"), token)

    async def service_create_link(self, invoice_id: str) -> dict[str, Any]:
        return await self._json("POST", self._invoice_path(invoice_id, "/link"), self._service.get())

    async def open_link(self, link_token: str) -> dict[str, Any]:
        """A session for the link's invoice. Raises ``LinkGone`` (naming the invoice) when the link
        expired or was revoked, ``NotFound`` when it is no link at all."""
        if not link_token or len(link_token) > 2048:
            raise NotFound(404, "link not found")
        return await self._json("POST", "/links/open", self._service.get(), json={"token": link_token})

    # -- invoices -----------------------------------------------------------------------------

    async def invoices(self, token: str, customer_id: int, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        return await self._json(
            "GET", "/invoices", token, params={"customer_id": customer_id, "limit": limit, "offset": offset}
        )

    async def invoice(self, token: str, invoice_id: str, lang: str = "sv") -> dict[str, Any]:
        return await self._json("GET", self._invoice_path(invoice_id), token, params={"lang": lang})

    async def invoice_pdf(self, token: str, invoice_id: str, lang: str = "sv") -> bytes:
        resp = await self._call("GET", self._invoice_path(invoice_id, "/pdf"), token, params={"lang": lang})
        return resp.content

    async def invoice_qr(self, token: str, invoice_id: str) -> dict[str, Any]:
        return await self._json("GET", self._invoice_path(invoice_id, "/qr"), token)

    async def explain(self, token: str, invoice_id: str, lang: str = "sv") -> dict[str, Any]:
        return await self._json("GET", self._invoice_path(invoice_id, "/explain"), token, params={"lang": lang})

    async def line_usage(
        self, token: str, invoice_id: str, position: int, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        if type(position) is not int or position < 0:
            raise NotFound(404, "line not found")
        return await self._json(
            "GET",
            self._invoice_path(invoice_id, f"/lines/{position}/usage"),
            token,
            params={"limit": limit, "offset": offset},
        )

    async def invoice_usage(
        self, token: str, invoice_id: str, service: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """The itemised usage of the invoice's period (reachable with a link-scoped token too)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if service:
            params["service"] = service
        return await self._json("GET", self._invoice_path(invoice_id, "/usage"), token, params=params)

    async def pay(self, token: str, invoice_id: str, return_url: str) -> dict[str, Any]:
        return await self._json("POST", self._invoice_path(invoice_id, "/pay"), token, json={"return_url": return_url})

    async def pay_many(
        self, token: str, customer_id: int, invoice_ids: list[str] | None, return_url: str
    ) -> dict[str, Any]:
        """One payment over several invoices ("Betala alla"); ``None`` pays every overdue one.

        Answers ``{"payment_id", "amount_ore", "checkout_path", "invoices": [{"id", "number", "amount_ore"}]}``.
        """
        if invoice_ids is not None:
            invoice_ids = list(invoice_ids)
            if not all(valid_invoice_id(i) for i in invoice_ids):
                raise NotFound(404, "invoice not found")
        return await self._json(
            "POST",
            f"/customers/{int(customer_id)}/pay",
            token,
            json={"invoice_ids": invoice_ids, "return_url": return_url},
        )

    # -- usage --------------------------------------------------------------------------------

    async def usage(
        self,
        token: str,
        customer_id: int,
        period: str | None = None,
        category: str | None = None,
        service: str | None = None,
        invoice_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        if invoice_id is not None and not valid_invoice_id(invoice_id):
            raise NotFound(404, "invoice not found")
        if period is not None and not valid_period(period):
            raise ApiError(422, "period: expected YYYY-MM")
        params: dict[str, Any] = {"customer_id": customer_id, "limit": limit, "offset": offset}
        for key, value in (
            ("period", period),
            ("category", category),
            ("service", service),
            ("invoice_id", invoice_id),
        ):
            if value:
                params[key] = value
        return await self._json("GET", "/usage", token, params=params)

    async def usage_summary(self, token: str, customer_id: int, period: str) -> dict[str, Any]:
        return await self._json("GET", "/usage/summary", token, params={"customer_id": customer_id, "period": period})

    async def forecast(self, token: str, customer_id: int, lang: str = "sv") -> dict[str, Any]:
        return await self._json("GET", f"/customers/{int(customer_id)}/forecast", token, params={"lang": lang})

    async def customer(self, token: str, customer_id: int) -> dict[str, Any]:
        return await self._json("GET", f"/customers/{int(customer_id)}", token)


_client: CoreClient | None = None
_client_lock = threading.Lock()


def get_client() -> CoreClient:
    """The process-wide client (one connection pool per backend worker)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = CoreClient()
        return _client


def set_client(client: CoreClient | None) -> None:
    """Replace the process-wide client (tests point it at a core of their own)."""
    global _client
    with _client_lock:
        _client = client
