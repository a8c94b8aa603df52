"""Credits and waived reminder fees in the support console: a preview first, then the agent confirms.

A part of :class:`selfcare.pages.agent.state.AgentState` (a Reflex state mixin: its vars and handlers
are the console's own, ``AgentState.credit``, ``AgentState.confirm_kind``). The preview shows what
the invoice will look like after the credit note or waiver; what the confirmation issues is kept
backend-only exactly as previewed (the browser cannot choose it) and is checked against the core
again before anything is issued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import reflex as rx

from selfcare.api_client import ApiError
from selfcare.i18n import N_, format_money, gettext
from selfcare.pages.agent.rows import clean_reason, parse_kr
from selfcare.state.typed import event
from selfcare.support_client import Forbidden, support_client

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from selfcare.state.calls import Call, Text

ABOVE_LIMIT = N_("This credit needs a supervisor: it is above your limit.")


def _refused(kind: str, lang: str) -> Callable[[ApiError], str]:
    """The core's refusal of a credit or a waiver, in its own words."""
    msgid = N_("The credit was refused: {reason}") if kind == "credit" else N_("No fee was waived: {reason}")
    return lambda exc: gettext(lang, msgid, reason=exc.detail or exc.status)


class CorrectionsPart(rx.State, mixin=True):
    """A credit or a waiver waiting for the agent's confirmation: what the invoice will look like after it."""

    if TYPE_CHECKING:  # the console's, which this is a part of (AgentState)
        invoice_id: str
        lines: list[dict[str, str]]
        error: str
        notice: str

        async def _agent(self) -> tuple[Any, str, str]: ...

        def _call(
            self, agent: Any, lang: str, what: str, failed: Text = None, **options: Any
        ) -> AbstractAsyncContextManager[Call]: ...

        async def _after_change(self, token: str, lang: str) -> None: ...

    confirm_kind: rx.Field[str] = rx.field("")  # "credit" | "waive" | ""
    confirm_lines: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    confirm_amount: rx.Field[str] = rx.field("")
    confirm_left: rx.Field[str] = rx.field("")

    # What the confirmation would issue, exactly as previewed (backend-only: the browser cannot choose it).
    _pending: dict[str, Any] = {}

    def _drop_confirmation(self) -> None:
        self._pending = {}
        self.confirm_kind = ""
        self.confirm_lines = []
        self.confirm_amount = ""
        self.confirm_left = ""

    @event
    async def credit(self, form: dict[str, Any]):
        """Preview crediting an amount or one line of the open invoice, with a reason: what the invoice will
        look like after the credit note. Nothing is issued until :meth:`confirm`."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or not isinstance(form, dict):
            return
        reason = clean_reason(form)
        if not reason:
            self.error = gettext(lang, "Reason: say why the invoice is credited (at most 500 characters).")
            return
        line = form.get("line", "0")
        amount_ore: int | None = None
        positions: list[int] | None = None
        if isinstance(line, str) and line.isdigit() and line != "0":
            if line not in {x["position"] for x in self.lines}:
                self.error = gettext(lang, "Line: choose a line of this invoice.")
                return
            positions = [int(line)]
        else:
            amount_ore = parse_kr(form.get("amount"))
            if amount_ore is None:
                self.error = gettext(lang, "Amount: write an amount in kronor, e.g. 50 or 49,50.")
                return
        self._drop_confirmation()
        request = {
            "kind": "credit",
            "invoice_id": self.invoice_id,
            "reason": reason,
            "amount_ore": amount_ore,
            "line_positions": positions,
        }
        async with self._call(
            agent,
            lang,
            f"credit preview on {self.invoice_id}",
            _refused("credit", lang),
            refused={Forbidden: ABOVE_LIMIT},
        ) as call:
            preview = await support_client().credit_preview(
                token, self.invoice_id, reason, amount_ore=amount_ore, line_positions=positions
            )
        if not call.failed:
            self._show_confirmation(request, preview, lang)

    @event
    async def waive_fee(self, form: dict[str, Any]):
        """Preview waiving the open invoice's reminder fees, with a reason; :meth:`confirm` waives them."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or not isinstance(form, dict):
            return
        reason = clean_reason(form)
        if not reason:
            self.error = gettext(lang, "Reason: say why the fee is waived (at most 500 characters).")
            return
        self._drop_confirmation()
        async with self._call(
            agent, lang, f"waive preview on {self.invoice_id}", _refused("waive", lang), quiet=True
        ) as call:
            preview = await support_client().waive_preview(token, self.invoice_id)
        if not call.failed:
            self._show_confirmation({"kind": "waive", "invoice_id": self.invoice_id, "reason": reason}, preview, lang)

    def _show_confirmation(self, request: dict[str, Any], preview: dict[str, Any], lang: str) -> None:
        """What the invoice will look like after the credit or waiver; nothing is issued until confirmed."""

        def money(key: str) -> int:
            value = preview.get(key)
            return value if type(value) is int else 0

        if request["kind"] == "credit":
            lines = [
                {"description": str(x.get("description", "")), "amount": format_money(x["amount_ore"], lang)}
                for x in preview.get("lines") or []
                if isinstance(x, dict) and type(x.get("amount_ore")) is int
            ]
            if money("rounding_ore"):
                lines.append(
                    {"description": gettext(lang, "Öre rounding"), "amount": format_money(money("rounding_ore"), lang)}
                )
            self.confirm_amount = gettext(
                lang,
                "Amount of the invoice: {before} → {after}",
                before=format_money(money("amount_ore"), lang),
                after=format_money(money("new_amount_ore"), lang),
            )
            expected = {"credited_ore": money("credited_ore"), "new_balance_ore": money("new_balance_ore")}
        else:
            lines = [
                {"description": gettext(lang, "Reminder fee waived"), "amount": format_money(-money("fee_ore"), lang)}
            ]
            self.confirm_amount = ""
            expected = {"fee_ore": money("fee_ore"), "new_balance_ore": money("new_balance_ore")}
        self.confirm_lines = lines
        self.confirm_left = gettext(
            lang,
            "Left to pay: {before} → {after}",
            before=format_money(money("balance_ore"), lang),
            after=format_money(money("new_balance_ore"), lang),
        )
        self.confirm_kind = request["kind"]
        self._pending = {**request, "expected": expected}

    @event
    def cancel_confirmation(self):
        """Leave the credit or waiver unissued."""
        self._drop_confirmation()

    @event
    async def confirm(self):
        """Issue the previewed credit note or waiver, and only that one (checked again against the core)."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        pending = self._pending
        if not token or not self.invoice_id or not pending or pending.get("invoice_id") != self.invoice_id:
            self._drop_confirmation()
            if token and self.invoice_id:
                self.error = gettext(lang, "Nothing to confirm: look at the preview first.")
            return
        self._drop_confirmation()
        kind = pending["kind"]
        async with self._call(
            agent, lang, f"{kind} on {self.invoice_id}", _refused(kind, lang), refused={Forbidden: ABOVE_LIMIT}
        ) as call:
            # The invoice may have changed since the preview (a payment, another agent's credit): ask again, and
            # issue only when it still says what the agent saw.
            again = await self._preview_again(token, pending)
            if any(again.get(k) != v for k, v in pending["expected"].items()):
                self.error = gettext(lang, "The invoice has changed since the preview. Check the new figures.")
                self._show_confirmation({k: v for k, v in pending.items() if k != "expected"}, again, lang)
                return
            answer = await self._issue(token, pending)
            await self._after_change(token, lang)
        if call.failed:
            return
        if kind == "credit":
            new_amount = (answer.get("invoice") or {}).get("new_amount_ore")
            self.notice = gettext(
                lang,
                "Credit note {number} issued. The new amount is {amount}.",
                number=(answer.get("credit_note") or {}).get("number", ""),
                amount=format_money(new_amount if type(new_amount) is int else 0, lang),
            )
            yield rx.set_value("agent-credit-amount", "")
            yield rx.set_value("agent-credit-reason", "")
        else:
            self.notice = gettext(lang, "The reminder fee was waived.")
            yield rx.set_value("agent-waive-reason", "")

    async def _preview_again(self, token: str, pending: dict[str, Any]) -> dict[str, Any]:
        if pending["kind"] == "credit":
            return await support_client().credit_preview(
                token,
                self.invoice_id,
                pending["reason"],
                amount_ore=pending["amount_ore"],
                line_positions=pending["line_positions"],
            )
        return await support_client().waive_preview(token, self.invoice_id)

    async def _issue(self, token: str, pending: dict[str, Any]) -> dict[str, Any]:
        if pending["kind"] == "credit":
            return await support_client().credit(
                token,
                self.invoice_id,
                pending["reason"],
                amount_ore=pending["amount_ore"],
                line_positions=pending["line_positions"],
            )
        return await support_client().waive_fee(token, self.invoice_id, pending["reason"])
