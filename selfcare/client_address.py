"""The browser's address, as the core's sign-in throttling counts it.

The app's backend calls the core for the browser (with its own service token), so it tells
the core whose browser it is: the address of the websocket's peer, or, when that peer is a
reverse proxy the operator trusts, the address that proxy saw. The trusted proxies are listed
in ``SELFCARE_TRUSTED_PROXIES`` (comma-separated addresses or networks, e.g.
``10.0.0.5, 10.1.0.0/16``); only through them is ``X-Forwarded-For`` believed, read from the
right and skipping every trusted hop, so a browser cannot name an address of its choice.
Empty (the default): the peer is the browser.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from selfcare.settings import settings_for

TRUSTED_PROXIES_ENV = "SELFCARE_TRUSTED_PROXIES"
CLIENT_HEADER = "X-Selfcare-Client-IP"  # what the core reads (backend_stub.api.clients)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(environ: Mapping[str, str] | None = None) -> tuple[Network, ...]:
    """The networks of ``SELFCARE_TRUSTED_PROXIES``; a bad entry is a ``ValueError`` naming it."""
    networks = []
    for entry in (settings_for(environ).trusted_proxies or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{TRUSTED_PROXIES_ENV}: {entry.strip()!r} is not an address or network") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def resolve(peer: str, headers: Mapping[str, str], proxies: tuple[Network, ...]) -> str:
    """The browser's address: ``peer`` unless it is a trusted proxy, then the right-most address of
    ``X-Forwarded-For`` that is not one. ``""`` when nothing usable is known."""
    address = _address(peer or "")
    if address is None:
        return ""

    def trusted(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(a in network for network in proxies if network.version == a.version)

    if not trusted(address):
        return str(address)
    forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        hop_address = _address(hop)
        if hop_address is None:
            break  # a hop we cannot read: stop at the last address we can vouch for
        address = hop_address
        if not trusted(hop_address):
            break
    return str(address)


def of_state(state: Any) -> str:
    """The address of the browser behind a Reflex state's current event (its websocket)."""
    session = getattr(state, "rx_router_session", None)
    header_data = getattr(state, "rx_router_headers", None)
    peer = str(getattr(session, "client_ip", "") or "")
    headers = dict(getattr(header_data, "raw_headers", {}) or {})
    return resolve(peer, headers, trusted_proxies())
