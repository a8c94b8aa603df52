"""The offers routes of the core (issue #6, /work/briefs/offers-contract.md) for the app.

A thin layer over :class:`selfcare.api_client.CoreClient` (same connection pool, transport and
service token, same typed errors), plus :class:`Forbidden` (signed in, but the wrong role) and
:class:`Invalid` (422: the core's validation message, naming the field). Ids are checked to be
positive integers before they reach a URL.
"""

from __future__ import annotations

from typing import Any

import httpx

from selfcare.api_client import ApiError, CoreClient, NotFound, Unauthorized, get_client

PLACEMENTS = ("overview", "invoice")
EVENT_KINDS = ("impression", "click", "dismiss")


class Forbidden(ApiError):
    """Signed in, but the role may not do this (a subscriber on a marketing route, say)."""


class Invalid(ApiError):
    """The core refused the input (422); ``detail`` names the field(s) and the reason."""


def readable_detail(detail: Any) -> str:
    """FastAPI's 422 body (``[{"loc": [...], "msg": ...}]`` or a string) as one line naming the fields."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if not isinstance(item, dict):
                parts.append(str(item))
                continue
            loc = [str(x) for x in item.get("loc") or [] if x not in ("body", "query", "path")]
            msg = str(item.get("msg") or "invalid")
            parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
        return "; ".join(parts)
    if isinstance(detail, dict):
        field = detail.get("field")
        msg = detail.get("message") or detail.get("msg") or detail.get("detail") or ""
        return f"{field}: {msg}" if field else str(msg or detail)
    return str(detail)


def _positive_id(value: object, what: str) -> int:
    if type(value) is not int or value <= 0:
        raise NotFound(404, f"{what} not found")
    return value


class OffersClient:
    """Calls of the offers routes; each takes the caller's token (subscriber or marketing)."""

    def __init__(self, core: CoreClient | None = None) -> None:
        self._core = core

    @property
    def core(self) -> CoreClient:
        return self._core or get_client()

    async def _response(self, method: str, path: str, token: str, **kwargs: Any):
        if not token:
            raise Unauthorized(401, "no session")
        http = self.core._http
        try:
            resp = await http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError:
            raise ApiError(0, "core unreachable") from None
        if resp.status_code < 400:
            return resp
        try:
            body = resp.json()
            detail: Any = body.get("detail", "") if isinstance(body, dict) else body
        except ValueError:
            detail = resp.text[:200]
        text = readable_detail(detail)
        if resp.status_code == 404:
            raise NotFound(404, text)
        if resp.status_code == 401:
            raise Unauthorized(401, text)
        if resp.status_code == 403:
            raise Forbidden(403, text)
        if resp.status_code in (400, 422):
            raise Invalid(resp.status_code, text)
        raise ApiError(resp.status_code, text)

    async def _json(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        resp = await self._response(method, path, token, **kwargs)
        return resp.json() if resp.content else None

    # -- subscriber ---------------------------------------------------------------------------

    async def banners(self, token: str, customer_id: int, placement: str, lang: str = "sv") -> list[dict[str, Any]]:
        """At most two banners for this customer on ``placement`` (``overview`` or ``invoice``)."""
        cid = _positive_id(customer_id, "customer")
        if placement not in PLACEMENTS:
            raise Invalid(422, f"placement: one of {', '.join(PLACEMENTS)}")
        answer = await self._json(
            "GET", f"/customers/{cid}/offers", token, params={"placement": placement, "lang": lang}
        )
        return list((answer or {}).get("banners") or [])

    async def event(self, token: str, customer_id: int, offer_id: int, kind: str, placement: str, view_id: str) -> None:
        """Record an impression, click or dismissal (idempotent per view id)."""
        cid, oid = _positive_id(customer_id, "customer"), _positive_id(offer_id, "offer")
        if kind not in EVENT_KINDS or placement not in PLACEMENTS:
            raise Invalid(422, "kind/placement")
        await self._response(
            "POST",
            f"/customers/{cid}/offers/{oid}/events",
            token,
            json={"kind": kind, "placement": placement, "view_id": view_id},
        )

    async def order(
        self, token: str, customer_id: int, offer_id: int, subscription_id: int, lang: str = "sv"
    ) -> dict[str, Any]:
        """The order sheet: what they get, terms, this period's fee lines with the change."""
        cid, oid = _positive_id(customer_id, "customer"), _positive_id(offer_id, "offer")
        sid = _positive_id(subscription_id, "subscription")
        return await self._json(
            "GET", f"/customers/{cid}/offers/{oid}/order", token, params={"subscription_id": sid, "lang": lang}
        )

    async def accept(self, token: str, customer_id: int, offer_id: int, subscription_id: int) -> dict[str, Any]:
        """Take the offer: 201 with the effective date; 409 when already accepted."""
        cid, oid = _positive_id(customer_id, "customer"), _positive_id(offer_id, "offer")
        sid = _positive_id(subscription_id, "subscription")
        return await self._json("POST", f"/customers/{cid}/offers/{oid}/accept", token, json={"subscription_id": sid})

    async def recommendation(self, token: str, customer_id: int, subscription_id: int) -> dict[str, Any]:
        cid = _positive_id(customer_id, "customer")
        sid = _positive_id(subscription_id, "subscription")
        return await self._json("GET", f"/customers/{cid}/recommendation", token, params={"subscription_id": sid})

    # -- marketing ----------------------------------------------------------------------------

    async def catalogue(self, token: str) -> dict[str, Any]:
        """Plans and add-ons (for the offer form's choices)."""
        return await self._json("GET", "/catalogue", token)

    async def offers(self, token: str) -> list[dict[str, Any]]:
        return list((await self._json("GET", "/marketing/offers", token) or {}).get("offers") or [])

    async def summary(self, token: str) -> list[dict[str, Any]]:
        return list((await self._json("GET", "/marketing/summary", token) or {}).get("offers") or [])

    async def offer(self, token: str, offer_id: int) -> dict[str, Any]:
        return await self._json("GET", f"/marketing/offers/{_positive_id(offer_id, 'offer')}", token)

    async def create(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._json("POST", "/marketing/offers", token, json=body)

    async def update(self, token: str, offer_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return await self._json("PUT", f"/marketing/offers/{_positive_id(offer_id, 'offer')}", token, json=body)

    async def schedule(self, token: str, offer_id: int, starts_at: str | None, ends_at: str | None) -> dict[str, Any]:
        return await self._json(
            "POST",
            f"/marketing/offers/{_positive_id(offer_id, 'offer')}/schedule",
            token,
            json={"starts_at": starts_at, "ends_at": ends_at},
        )

    async def stop(self, token: str, offer_id: int) -> dict[str, Any]:
        return await self._json("POST", f"/marketing/offers/{_positive_id(offer_id, 'offer')}/stop", token)

    async def upload_image(self, token: str, filename: str, data: bytes, content_type: str) -> dict[str, Any]:
        """A banner image (PNG, JPEG or WebP, ≤ 1 MB): ``{"id", "url", "width", "height", "content_type"}``."""
        return await self._json(
            "POST",
            "/marketing/images",
            token,
            files={"file": (filename or "image", data, content_type or "application/octet-stream")},
        )

    async def segment_preview(self, token: str, rules: dict[str, Any], sells: dict[str, Any] | None) -> dict[str, Any]:
        return await self._json("POST", "/marketing/segments/preview", token, json={"rules": rules, "sells": sells})

    async def offer_preview(self, token: str, offer_id: int, customer_number: str, lang: str = "sv") -> dict[str, Any]:
        return await self._json(
            "GET",
            f"/marketing/offers/{_positive_id(offer_id, 'offer')}/preview",
            token,
            params={"customer_number": customer_number, "lang": lang},
        )

    async def results(self, token: str, offer_id: int) -> dict[str, Any]:
        return await self._json("GET", f"/marketing/offers/{_positive_id(offer_id, 'offer')}/results", token)


def offers_client() -> OffersClient:
    """The offers calls on the process-wide core client."""
    return OffersClient()
