"""Whose browser is behind a call: the client address that sign-in throttling counts by.

The sign-in routes are called by the app's backend with its service token, on behalf of a
browser; the core itself only sees the app. So the app states the browser's address in the
``X-Selfcare-Client-IP`` header (it takes it from the websocket connection, through the
proxies it trusts: ``selfcare/client_address.py``). The header is believed from a service
caller only; from anyone else it is ignored and the caller's own address counts.
"""

from __future__ import annotations

import ipaddress

from fastapi import HTTPException, Request

from backend_stub.services.access.tokens import Principal, Role

CLIENT_HEADER = "X-Selfcare-Client-IP"


def client_address(request: Request, principal: Principal, stated: str | None = None) -> str | None:
    """The browser's address as a string, or None when a service caller named none.

    ``stated``: the older ``client`` field of the request body (believed like the header).
    Raises 422 naming the header (or field) when what a service caller stated is no IP address.
    """
    if principal.role is Role.SERVICE:
        header = request.headers.get(CLIENT_HEADER)
        field, value = (CLIENT_HEADER, header) if header else ("client", stated)
        if not value:
            return None
    else:
        field, value = "", request.client.host if request.client else None
        if not value:
            return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        if not field:
            return None  # the transport's own peer name (a test client): not counted per client
        raise HTTPException(422, f"{field}: not an IP address") from None
