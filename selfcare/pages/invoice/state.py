"""``/invoices/[invoice_id]``, the invoice page: one invoice, re-checked against the session in every handler."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from selfcare import presenters
from selfcare.api_client import ApiError, NotFound, get_client
from selfcare.i18n import N_, gettext
from selfcare.invoice_view import invoice_view
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.checkout import app_origin, to_checkout
from selfcare.state.payment_method import autopay_view
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import DictField, dict_field, event

logger = logging.getLogger(__name__)

DRILL_PAGE = 50
USAGE_PAGE = 100


class InvoiceState(rx.State):
    """What the invoice page shows. Everything here is the signed-in subscriber's own."""

    current_id: rx.Field[str] = rx.field("")
    loading: rx.Field[bool] = rx.field(False)
    not_found: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    view: DictField[dict[str, Any]] = dict_field()
    lines: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    vat_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    plans: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    usage_summary: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    timeline: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    usage_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    usage_total: rx.Field[int] = rx.field(0)
    explain_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    explain_summary: rx.Field[str] = rx.field("")
    qr_svg: rx.Field[str] = rx.field("")
    paying: rx.Field[bool] = rx.field(False)
    # The automatic draw (autogiro or saved card): shown instead of the Pay button when set.
    autopay: DictField[dict[str, str]] = dict_field()
    # Drill-down from a specification line to the usage records behind it.
    drill_open: rx.Field[bool] = rx.field(False)
    drill_title: rx.Field[str] = rx.field("")
    drill_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    drill_total: rx.Field[int] = rx.field(0)
    # What makes the records add up to the line: the line's amount, the display rounding of the
    # records ("" when none) and, on a fee line, a note that the calls are on their own line.
    drill_amount: rx.Field[str] = rx.field("")
    drill_rounding: rx.Field[str] = rx.field("")
    drill_note: rx.Field[str] = rx.field("")
    _drill_position: int = 0

    def _clear(self) -> None:
        self.current_id = ""
        self.view = {}
        self.lines = []
        self.vat_rows = []
        self.plans = []
        self.usage_summary = []
        self.timeline = []
        self.usage_rows = []
        self.usage_total = 0
        self.explain_rows = []
        self.explain_summary = ""
        self.qr_svg = ""
        self.autopay = {}
        self.drill_open = False
        self.drill_rows = []
        self.drill_title = ""
        self.drill_total = 0
        self._drill_footer({}, "sv")
        self._drill_position = 0
        self.error = ""

    async def _token(self, invoice_id: str) -> tuple[SessionState, str]:
        session = await self.get_state(SessionState)
        return session, session._token_for_invoice(invoice_id)

    def _not_found(self) -> None:
        self._clear()
        self.not_found = True

    @event
    async def load(self):
        """on_load of ``/invoices/[invoice_id]``."""
        invoice_id = str(self.rx_router_page.params.get("invoice_id", ""))
        async for update in self._open(invoice_id):
            yield update

    @event
    async def open_invoice(self, invoice_id: str):
        """Show ``invoice_id`` (the browser may send any id: it is checked like any other)."""
        async for update in self._open(invoice_id):
            yield update

    async def _open(self, invoice_id: Any):
        session, token = await self._token(invoice_id if isinstance(invoice_id, str) else "")
        if not token:
            self._not_found()
            if not session.signed_in and not session.scoped:
                yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        if self.current_id != invoice_id:
            self._clear()
        self.loading = True
        self.not_found = False
        yield
        # A link's session that ended (the link was revoked): sign in, then this invoice.
        async with core_call(
            self,
            Subscriber(session, forget=self._clear, keep_invoice=invoice_id),
            f"invoice {invoice_id}",
            N_("The invoice could not be loaded just now. Please try again."),
            busy="loading",
            refused={NotFound: None},
        ) as call:
            doc = await get_client().invoice(token, invoice_id, lang)
            # The core already refuses foreign ids; this is the app's own second check.
            if not session._owns_customer(doc.get("customer_id")):
                raise NotFound(404, "invoice not found")
        if isinstance(call.exc, NotFound):
            self._not_found()
        if call.event:
            yield call.event
        if call.failed:
            return
        self.current_id = invoice_id
        if invoice_id == session._scope_invoice:  # a link's session may open the credit notes this page lists
            session._allow_related([str(c.get("id", "")) for c in doc.get("credit_notes") or []])
        self.view = invoice_view(doc, lang)
        self.autopay = autopay_view(doc.get("autopay"), lang)
        self.lines = presenters.spec_lines(doc, lang)
        self.vat_rows = presenters.vat_rows(doc, lang)
        self.plans = presenters.plan_rows(doc, lang)
        self.usage_summary = presenters.usage_summary_rows(doc, lang)
        self.timeline = presenters.timeline_rows(doc, lang)
        yield
        await self._load_extras(session, token, invoice_id, doc, lang)

    async def _load_extras(
        self, session: SessionState, token: str, invoice_id: str, doc: dict[str, Any], lang: str
    ) -> None:
        """QR, explanation and itemised usage: each optional, the page works without them."""
        client = get_client()
        self.qr_svg = ""
        if self.view.get("payable"):  # a QR code only while something is left to pay
            try:
                qr = await client.invoice_qr(token, invoice_id)
                svg = str(qr.get("svg", ""))
                self.qr_svg = svg if svg.lstrip().startswith(("<svg", "<?xml")) else ""
            except ApiError as exc:
                logger.info("qr %s: %s", invoice_id, exc)
        try:
            explain = await client.explain(token, invoice_id, lang)
            self.explain_rows = presenters.explain_rows(explain, lang)
            prev = explain.get("previous")
            if prev:
                self.explain_summary = gettext(
                    lang,
                    "{difference} compared with invoice {number}.",
                    difference=presenters.format_signed_money(int(explain.get("difference_ore") or 0), lang),
                    number=str(prev.get("number", "")),
                )
            else:
                self.explain_summary = gettext(lang, "This is your first invoice.")
        except ApiError as exc:
            logger.info("explain %s: %s", invoice_id, exc)
            self.explain_rows = []
            self.explain_summary = ""
        try:
            usage = await client.invoice_usage(token, invoice_id, limit=USAGE_PAGE)
            self.usage_rows = [presenters.usage_row(r, lang) for r in usage.get("items") or []]
            self.usage_total = int(usage.get("total") or 0)
        except (ApiError, KeyError, ValueError) as exc:
            logger.info("usage of %s: %s", invoice_id, exc)
            self.usage_rows = []
            self.usage_total = 0

    @event
    async def open_line(self, position: int):
        """Tap on a usage line of the specification: the records behind it."""
        invoice_id = self.current_id
        session, token = await self._token(invoice_id)
        if not token or type(position) is not int or not 1 <= position <= len(self.lines):
            self.drill_open = False
            return
        lang = session._lang()
        async with core_call(
            self, Subscriber(session), f"line usage {invoice_id}/{position}", quiet=True, refused={NotFound: None}
        ) as call:
            answer = await get_client().line_usage(token, invoice_id, position, limit=DRILL_PAGE)
        if call.event:
            yield call.event
            return
        if call.failed:
            self.drill_rows = []
            self.drill_total = 0
            self._drill_footer({}, lang)
        else:
            self.drill_rows = [presenters.usage_row(r, lang) for r in answer.get("items") or []]
            self.drill_total = int(answer.get("total") or len(self.drill_rows))
            self._drill_footer(answer, lang)
        self.drill_title = self.lines[position - 1]["description"]
        self._drill_position = position
        self.drill_open = True

    def _drill_footer(self, answer: dict[str, Any], lang: str) -> None:
        footer = presenters.drill_footer(answer, lang)
        self.drill_amount = footer["amount"]
        self.drill_rounding = footer["rounding"]
        self.drill_note = footer["note"]

    async def _more(self, rows: str, total: str, fetch):
        """Append the next page of records to the list ``rows`` (of ``total``): ``fetch(client, token, invoice_id,
        offset)`` asks the core for it."""
        invoice_id = self.current_id
        session, token = await self._token(invoice_id)
        shown = getattr(self, rows)
        if not token or len(shown) >= getattr(self, total):
            return None
        lang = session._lang()
        async with core_call(
            self,
            Subscriber(session),
            f"records of {invoice_id} from {len(shown)}",
            N_("The records could not be loaded just now. Please try again."),
            quiet=True,
        ) as call:
            answer = await fetch(get_client(), token, invoice_id, len(shown))
        if call.failed:
            return call.event
        added = [presenters.usage_row(r, lang) for r in answer.get("items") or []]
        setattr(self, rows, shown + added)
        setattr(self, total, int(answer.get("total") or len(shown) + len(added)))
        return None

    @event
    async def more_usage(self):
        """The next page of the invoice's itemised usage."""
        return await self._more(
            "usage_rows",
            "usage_total",
            lambda client, token, invoice_id, offset: client.invoice_usage(
                token, invoice_id, limit=USAGE_PAGE, offset=offset
            ),
        )

    @event
    async def more_drill(self):
        """The next page of the records behind the open specification line."""
        position = self._drill_position
        if not self.drill_open or not position:
            return None
        return await self._more(
            "drill_rows",
            "drill_total",
            lambda client, token, invoice_id, offset: client.line_usage(
                token, invoice_id, position, limit=DRILL_PAGE, offset=offset
            ),
        )

    @event
    def close_line(self):
        self.drill_open = False

    @event
    def set_drill_open(self, value: bool):
        """The dialog's own open/close (Esc, overlay): only ever closes it."""
        if not value:
            self.drill_open = False

    @event
    async def download_pdf(self):
        invoice_id = self.current_id
        session, token = await self._token(invoice_id)
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        async with core_call(
            self, Subscriber(session), f"pdf {invoice_id}", N_("The PDF could not be made just now. Please try again.")
        ) as call:
            pdf = await get_client().invoice_pdf(token, invoice_id, lang)
        if call.failed:
            return call.event
        name = (
            ("kreditfaktura" if self.view.get("kind") == "credit_note" else "faktura")
            if lang == "sv"
            else ("credit-note" if self.view.get("kind") == "credit_note" else "invoice")
        )
        return rx.download(data=pdf, filename=f"{name}-{self.view.get('number', '')}.pdf")

    @event
    async def pay(self):
        """Start a payment and send the browser to the provider's hosted page."""
        invoice_id = self.current_id
        session, token = await self._token(invoice_id)
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        return_url = f"{app_origin(self)}/invoices/{invoice_id}"
        self.paying = True
        try:
            return await to_checkout(
                self, session, lambda: get_client().pay(token, invoice_id, return_url), f"pay {invoice_id}"
            )
        finally:
            self.paying = False
