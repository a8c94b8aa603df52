"""The support routes of the core (docs/support.md) for the app: threads, agent sign-in, inbox, corrections.

A thin layer over :class:`selfcare.api_client.CoreClient` (same connection pool, transport
and service token, same typed errors), plus :class:`Forbidden` for the one 403 the console
must tell apart from an expired session: a credit above the agent's limit.
"""

from __future__ import annotations

from typing import Any

from selfcare.api_client import ApiError, CoreClient, NotFound, Unauthorized, get_client

MAX_MESSAGE = 2000  # the core's limit (characters); the app checks it first for a clear message


class Forbidden(ApiError):
    """Signed in, but not allowed (a credit above the limit needs a supervisor)."""


def _thread_id(value: object) -> int:
    if type(value) is not int or value <= 0:
        raise NotFound(404, "thread not found")
    return value


class SupportClient:
    """Calls of the support routes; every one takes the caller's token (agent or subscriber)."""

    def __init__(self, core: CoreClient | None = None) -> None:
        self._core = core

    @property
    def core(self) -> CoreClient:
        return self._core or get_client()

    async def _json(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        try:
            return await self.core._json(method, path, token, **kwargs)
        except Unauthorized as exc:
            if exc.status == 403:
                raise Forbidden(403, exc.detail) from None
            raise

    # -- threads (subscriber or agent) --------------------------------------------------------

    async def thread(self, token: str, invoice_id: str, after: int | None = None) -> dict[str, Any]:
        """The invoice's thread and messages (only those after message id ``after``).

        An agent's read without ``after`` is audited by the core as a view; refreshes pass ``after=0``.
        """
        params = {"after": int(after)} if after is not None else {}
        return await self._json("GET", CoreClient._invoice_path(invoice_id, "/thread"), token, params=params)

    async def post_message(
        self, token: str, invoice_id: str, text: str, line_position: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if line_position is not None:
            body["line_position"] = line_position
        return await self._json("POST", CoreClient._invoice_path(invoice_id, "/thread/messages"), token, json=body)

    # -- agents -------------------------------------------------------------------------------

    async def agent_login(self, username: str, password: str, client: str | None = None) -> dict[str, Any]:
        """An agent's session token (through the app's service token); 401 wrong, 429 too many tries."""
        body: dict[str, Any] = {"username": username, "password": password}
        return await self._json(
            "POST",
            "/agent-auth/login",
            self.core._service.get(),
            json=body,
            headers=self.core._for_client(client or ""),
        )

    async def logout(self, token: str) -> None:
        await self.core.logout(token)

    async def inbox(
        self, token: str, status: str | None = None, mine: bool = False, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if mine:
            params["mine"] = "true"
        return await self._json("GET", "/agent/inbox", token, params=params)

    async def assign(self, token: str, thread_id: int, release: bool = False) -> dict[str, Any]:
        params = {"release": "true"} if release else {}
        return await self._json("POST", f"/threads/{_thread_id(thread_id)}/assign", token, params=params)

    async def resolve(self, token: str, thread_id: int) -> dict[str, Any]:
        return await self._json("POST", f"/threads/{_thread_id(thread_id)}/resolve", token)

    async def credit(
        self,
        token: str,
        invoice_id: str,
        reason: str,
        *,
        amount_ore: int | None = None,
        line_positions: list[int] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": reason}
        if line_positions:
            body["line_positions"] = line_positions
        else:
            body["amount_ore"] = amount_ore
        return await self._json("POST", CoreClient._invoice_path(invoice_id, "/thread/credit"), token, json=body)

    async def credit_preview(
        self,
        token: str,
        invoice_id: str,
        reason: str,
        *,
        amount_ore: int | None = None,
        line_positions: list[int] | None = None,
    ) -> dict[str, Any]:
        """What :meth:`credit` would issue (lines, rounding, amount and balance before and after); issues nothing."""
        body: dict[str, Any] = {"reason": reason}
        if line_positions:
            body["line_positions"] = line_positions
        else:
            body["amount_ore"] = amount_ore
        return await self._json(
            "POST", CoreClient._invoice_path(invoice_id, "/thread/credit/preview"), token, json=body
        )

    async def waive_preview(self, token: str, invoice_id: str) -> dict[str, Any]:
        """The reminder fee a waiver would take away and the balance after; waives nothing."""
        return await self._json("POST", CoreClient._invoice_path(invoice_id, "/thread/waive-fee/preview"), token)

    async def waive_fee(self, token: str, invoice_id: str, reason: str) -> dict[str, Any]:
        return await self._json(
            "POST", CoreClient._invoice_path(invoice_id, "/thread/waive-fee"), token, json={"reason": reason}
        )

    async def audit(
        self,
        token: str,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for key, value in (("actor", actor), ("action", action), ("target", target)):
            if value:
                params[key] = value
        return await self._json("GET", "/audit", token, params=params)


def support_client() -> SupportClient:
    """The support calls on the process-wide core client."""
    return SupportClient()
