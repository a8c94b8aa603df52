"""``/payment-method``: how the subscriber pays (by hand, autogiro or a saved card), and changing it.

The customer is always the session's own: no handler takes a customer id from the browser.
Autogiro's clearing and account numbers are checked here for shape (digits, lengths), so a
typing slip gets an answer at once; the bank rules (clearing ranges, account lengths per bank)
are the core's, and its 422 is shown beside the field it names. A card is saved on the payment
provider's hosted page: the core gives its address, the browser goes there and comes back here.

The state keeps the core's answer as given (``_doc``); what the page and the overview's card
show of it is computed in the session's language of the moment (``view``, ``details``), so a
language switch relabels them at once.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import reflex as rx
from babel.dates import format_date as _babel_date

from selfcare.api_client import core_public_base
from selfcare.charges_client import Invalid, charges_client
from selfcare.i18n import N_, format_date, gettext, normalise_language
from selfcare.settings import get_settings
from selfcare.state.browser import go_to
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event

ROUTE = "/payment-method"
_SEPARATORS = re.compile(r"[\s\-.]")
_CLEARING = re.compile(r"^\d{4,5}$")
_ACCOUNT = re.compile(r"^\d{5,12}$")
_PERSONAL = re.compile(r"^(\d{10}|\d{12})$")  # ÅÅMMDDNNNN or ÅÅÅÅMMDDNNNN; the core checks date and digit
_REDIRECT = re.compile(r"^/[A-Za-z0-9/_\-.?=&%]*$")
_FORMAT_LOCALE = {"sv": "sv_SE", "en": "en_GB"}

METHOD_TEXT = {"manual": N_("Manual payment"), "autogiro": N_("Autogiro"), "card": N_("Card")}
STATUS_TEXT = {"active": N_("Active"), "pending": N_("Pending"), "failed": N_("Failed"), "none": N_("Not set up")}
STATUS_TONE = {"active": "green", "pending": "amber", "failed": "red", "none": "gray"}
MANDATE_TEXT = {
    "pending": N_("Waiting for your bank to approve the mandate"),
    "approved": N_("Approved by your bank"),
    "rejected": N_("Rejected by your bank"),
    "withdrawn": N_("Withdrawn"),
}
# The invoice's automatic draw: what the invoice page says instead of the Pay button.
AUTOPAY_TEXT = {
    ("autogiro", "scheduled"): N_("Drawn by autogiro on {date}"),
    ("autogiro", "pending"): N_("Drawn by autogiro on {date}"),
    ("autogiro", "retrying"): N_("The autogiro draw failed; we try again on {date}"),
    ("autogiro", "paid"): N_("Paid by autogiro on {date}"),
    ("card", "scheduled"): N_("Charged to your card on {date}"),
    ("card", "pending"): N_("Charged to your card on {date}"),
    ("card", "retrying"): N_("The card payment failed; we try again on {date}"),
    ("card", "paid"): N_("Paid by card on {date}"),
}
AUTOPAY_FAILED = N_("The automatic payment did not go through. Please pay this invoice yourself.")


def clean_digits(value: Any) -> str:
    """What the subscriber typed, without spaces, dashes and dots (``"8327-9"`` → ``"83279"``)."""
    return _SEPARATORS.sub("", value) if isinstance(value, str) else ""


def check_autogiro_form(form: Any, lang: str) -> tuple[str, str, str, dict[str, str]]:
    """``(clearing, account, personal number, errors by field)``: the shape only.

    The core checks the bank rules and the personal number's date and check digit. Bankgirot
    needs the payer's personal number on every new mandate, so it is asked for here.
    """
    form = form if isinstance(form, dict) else {}
    clearing = clean_digits(form.get("clearing"))[:16]
    account = clean_digits(form.get("account"))[:24]
    personal = clean_digits(form.get("personal_number"))[:16]
    errors: dict[str, str] = {}
    if not _PERSONAL.match(personal):
        errors["personal_number"] = gettext(lang, "Personal number: 12 digits, e.g. 19700101-1234.")
    if not _CLEARING.match(clearing):
        errors["clearing"] = gettext(lang, "Clearing number: 4 digits (5 for some Swedbank accounts), e.g. 8327.")
    if not _ACCOUNT.match(account):
        errors["account"] = gettext(lang, "Account number: 5 to 12 digits, without the clearing number.")
    return clearing, account, personal, errors


def short_date(value: Any, lang: str) -> str:
    """``2026-04-30`` → ``30 april`` / ``30 April`` (the draw date, as the invoice page says it)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        d = datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value[:10])
    except ValueError:
        return ""
    return _babel_date(d, format="d MMMM", locale=_FORMAT_LOCALE[normalise_language(lang)])


def autopay_view(autopay: Any, lang: str) -> dict[str, str]:
    """The invoice's ``autopay`` as the page shows it: ``text`` (empty: show the Pay button), ``tone``
    and ``failed`` (``"1"`` when the draw failed and the subscriber pays by hand)."""
    if not isinstance(autopay, dict):
        return {"text": "", "tone": "", "failed": "", "paid": ""}
    method, status = str(autopay.get("method", "")), str(autopay.get("status", ""))
    if status == "failed":
        return {"text": "", "tone": "red", "failed": "1", "paid": ""}
    msgid = AUTOPAY_TEXT.get((method, status))
    if msgid is None:
        return {"text": "", "tone": "", "failed": "", "paid": ""}
    when = autopay.get("paid_at") if status == "paid" and autopay.get("paid_at") else autopay.get("draw_date")
    return {
        "text": gettext(lang, msgid, date=short_date(when, lang)).strip(),
        "tone": "green" if status == "paid" else "orange" if status == "retrying" else "blue",
        "failed": "",
        "paid": "1" if status == "paid" else "",
    }


def method_view(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """``GET /customers/{id}/payment-method`` as display strings."""
    method = str(doc.get("method") or "manual")
    status = str(doc.get("status") or "none")
    details: list[str] = []
    ag = doc.get("autogiro") if isinstance(doc.get("autogiro"), dict) else None
    card = doc.get("card") if isinstance(doc.get("card"), dict) else None
    if method == "autogiro" and ag:
        details.append(
            gettext(
                lang,
                "Account {account}, clearing number {clearing}",
                account=str(ag.get("account", "")),
                clearing=str(ag.get("clearing", "")),
            )
        )
        mandate = str(ag.get("mandate_status", ""))
        if mandate in MANDATE_TEXT:
            details.append(gettext(lang, MANDATE_TEXT[mandate]))
    if method == "card" and card:
        details.append(
            gettext(
                lang,
                "{brand} ending in {last4}, valid until {expires}",
                brand=str(card.get("brand", "")).capitalize(),
                last4=str(card.get("last4", "")),
                expires=str(card.get("expires", "")),
            )
        )
    since = doc.get("since")
    if isinstance(since, str) and since and method != "manual":
        try:
            details.append(gettext(lang, "Since {date}", date=format_date(since, lang)))
        except ValueError:
            pass
    pending = method == "autogiro" and status == "pending"
    summary = gettext(lang, METHOD_TEXT.get(method, "Manual payment"))
    if method == "card" and card and card.get("last4"):
        summary = f"{summary} •••• {card.get('last4')}"
    return {
        "method": method,
        "status": status,
        "method_text": gettext(lang, METHOD_TEXT.get(method, "Manual payment")),
        "summary": summary,
        # Paying by hand has no status worth a badge ("not set up" would read as a fault).
        "status_text": ""
        if method == "manual" and status in ("none", "active")
        else gettext(lang, STATUS_TEXT.get(status, "Not set up")),
        "tone": STATUS_TONE.get(status, "gray"),
        "details": details,
        "pending_note": gettext(
            lang, "Pending until your bank approves the mandate. Until then, pay your invoices as usual."
        )
        if pending
        else "",
        "notice": str(doc.get("notice") or ""),
        "automatic": method in ("autogiro", "card") and status in ("active", "pending"),
    }


class PaymentMethodState(rx.State):
    """The payment method of the signed-in subscriber (``/payment-method`` and the overview's summary)."""

    loaded: rx.Field[bool] = rx.field(False)
    loading: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    success: rx.Field[str] = rx.field("")
    form_open: rx.Field[bool] = rx.field(False)
    confirm_manual: rx.Field[bool] = rx.field(False)
    clearing_error: rx.Field[str] = rx.field("")
    account_error: rx.Field[str] = rx.field("")
    personal_error: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

    _customer_id: int = 0
    _doc: dict[str, Any] = {}  # the core's answer (GET /customers/{id}/payment-method)

    @rx.var
    async def view(self) -> dict[str, Any]:
        """The payment method as display strings, in the session's language (``{}`` until loaded)."""
        session = await self.get_state(SessionState)
        if not self.loaded:
            return {}
        view = method_view(self._doc, normalise_language(session.lang))
        view.pop("details")
        return view

    @rx.var
    async def details(self) -> list[str]:
        session = await self.get_state(SessionState)
        if not self.loaded:
            return []
        return method_view(self._doc, normalise_language(session.lang))["details"]

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if customer_id != self._customer_id:
            self._forget()
        return session, token, customer_id

    def _forget(self) -> None:
        self.loaded = False
        self._doc = {}
        self.form_open = False
        self.confirm_manual = False
        self.clearing_error = ""
        self.account_error = ""
        self.personal_error = ""
        self.error = ""
        self.success = ""
        self._customer_id = 0

    async def _reload(self, session: SessionState, token: str, customer_id: int) -> None:
        doc = await charges_client().payment_method(token, customer_id, session._lang())
        self._doc = doc if isinstance(doc, dict) else {}
        self._customer_id = customer_id
        self.loaded = True

    @event
    async def load(self):
        """on_load of ``/payment-method`` (and the overview's summary card)."""
        session, token, customer_id = await self._session()
        if not token:
            self._forget()
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        self.loading = True
        # A page (re)opened starts clean: no half-filled form or old message from an earlier visit.
        self.error = self.success = self.clearing_error = self.account_error = self.personal_error = ""
        self.form_open = self.confirm_manual = False
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            "payment method",
            N_("Your payment method could not be loaded just now. Please try again."),
            busy="loading",
        ) as call:
            await self._reload(session, token, customer_id)
        if call.event:
            return call.event
        # Back from the provider's save-card page (``?card=saved|failed``); the core's answer decides.
        back = self.rx_router_page.params.get("card") if self.rx_router_page.path == ROUTE else None
        if back == "saved" and self._doc.get("method") == "card":
            self.success = gettext(lang, "Your card is saved. Your invoices are charged to it on their due date.")
        elif back in ("saved", "failed"):
            self.error = gettext(lang, "The card was not saved. Try again, or choose another way to pay.")
        return None

    @event
    async def open_autogiro(self):
        _session, token, _cid = await self._session()
        if not token:
            return
        self.form_open = True
        self.confirm_manual = False
        self.clearing_error = self.account_error = self.personal_error = self.error = self.success = ""

    @event
    def close_autogiro(self):
        self.form_open = False
        self.clearing_error = self.account_error = self.personal_error = ""

    @event
    async def submit_autogiro(self, form: dict[str, Any]):
        """Turn on autogiro with the account the subscriber typed (a mandate, pending until the bank says yes)."""
        session, token, customer_id = await self._session()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        self.error = self.success = ""
        clearing, account, personal, errors = check_autogiro_form(form, lang)
        self.clearing_error = errors.get("clearing", "")
        self.account_error = errors.get("account", "")
        self.personal_error = errors.get("personal_number", "")
        if errors:
            return None
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            "autogiro",
            N_("Autogiro could not be turned on just now. Please try again."),
            busy="busy",
            refused={Invalid: lambda exc: self._field_error(exc.detail, lang)},
        ) as call:
            await charges_client().set_autogiro(token, customer_id, clearing, account, personal)
            await self._reload(session, token, customer_id)
        if call.failed:
            return call.event
        self.form_open = False
        self.success = gettext(
            lang,
            "Autogiro is requested. It starts when your bank has approved the mandate, "
            "usually within a few banking days.",
        )
        return None

    def _field_error(self, detail: str, lang: str) -> None:
        """The core's 422 beside the field it names (``clearing: …``, ``account: …``)."""
        field, _, message = (detail or "").partition(":")
        field = field.strip().lower()
        message = message.strip() or detail
        # The core explains in English; in Swedish the field gets a Swedish sentence of its own.
        if field.startswith("clearing"):
            self.clearing_error = (
                gettext(lang, "Clearing number: {message}", message=message)
                if lang == "en"
                else gettext(
                    lang,
                    "Clearing number: no Swedish bank has this number. Check it on your bank "
                    "statement or in your internet bank.",
                )
            )
        elif field.startswith("personal"):
            self.personal_error = (
                gettext(lang, "Personal number: {message}", message=message)
                if lang == "en"
                else gettext(
                    lang,
                    "Personal number: it is not a valid Swedish personal number. Check the date and "
                    "the last four digits.",
                )
            )
        elif field.startswith("account"):
            self.account_error = (
                gettext(lang, "Account number: {message}", message=message)
                if lang == "en"
                else gettext(
                    lang,
                    "Account number: it does not fit this bank's account numbers (length or check "
                    "digit). Check it in your internet bank.",
                )
            )
        else:
            self.error = gettext(lang, "Not accepted: {message}", message=detail or "422")

    @event
    async def choose_card(self):
        """Save a card at the payment provider: the browser goes to its hosted page and comes back here."""
        session, token, customer_id = await self._session()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        self.error = self.success = ""
        origin = str(self.rx_router_page.host or get_settings().app_url or "").rstrip("/")
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            "card",
            N_("The card could not be set up just now. Please try again."),
            busy="busy",
        ) as call:
            answer = await charges_client().set_card(token, customer_id, f"{origin}{ROUTE}")
        if call.failed:
            return call.event
        target = provider_page((answer or {}).get("redirect_url"))
        if not target:
            self.error = gettext(lang, "The card could not be set up just now. Please try again.")
            return None
        # A full page load: the hosted page is not a route of this app.
        return go_to(target)  # without eval (the CSP forbids it)

    @event
    async def ask_manual(self):
        _session, token, _cid = await self._session()
        if token:
            self.confirm_manual = True
            self.form_open = False

    @event
    def keep_method(self):
        self.confirm_manual = False

    @event
    async def choose_manual(self):
        """Stop paying automatically (the mandate is cancelled, a saved card forgotten)."""
        session, token, customer_id = await self._session()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        self.error = self.success = ""
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            "manual",
            N_("The payment method could not be changed just now. Please try again."),
            busy="busy",
        ) as call:
            await charges_client().set_manual(token, customer_id)
            await self._reload(session, token, customer_id)
        if call.failed:
            return call.event
        self.confirm_manual = False
        self.success = gettext(lang, "You now pay your invoices yourself, by bank transfer or the Pay button.")
        return None


def provider_page(redirect_url: Any) -> str:
    """Where the browser goes to save a card: the core's relative address on the core's public base.

    The core may answer with its own path (``/paygw/cards/…``) or with the mount prefix
    (``/core/paygw/cards/…``); anything else (another host, a script URL) is refused.
    """
    if not isinstance(redirect_url, str) or not _REDIRECT.match(redirect_url) or redirect_url.startswith("//"):
        return ""
    from selfcare.embedding import CORE_PREFIX

    path = redirect_url[len(CORE_PREFIX) :] if redirect_url.startswith(CORE_PREFIX + "/") else redirect_url
    return core_public_base() + path
