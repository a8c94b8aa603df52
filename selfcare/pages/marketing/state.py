"""The marketing console's session and its state (``/marketing``): the offers, and the one selected.

The marketer's session is separate from the subscriber's and the agent's:
:class:`MarketingSessionState` (a :class:`selfcare.state.staff.StaffSessionState`) keeps the JWT in
a backend-only field and only accepts accounts with the role ``marketing`` (support staff are
refused with a pointer to ``/agent``). Every handler of :class:`MarketingState` starts by asking it
for a live token; without one it does nothing. The core checks the role again on every call.

:class:`MarketingState` is written in four modules: here the list, the form (saving) and the
schedule; the banner image in :mod:`.image`, the preview tab in :mod:`.preview` and the results
tab in :mod:`.results` (parts of the same state). The form is turned into the core's Offer body by
:func:`.offer_form.offer_body` (plain function, tested on its own): every problem names its field,
and nothing is sent while there is one.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, ClassVar

import reflex as rx

from selfcare.api_client import ApiError, NotFound
from selfcare.i18n import N_, format_datetime, gettext
from selfcare.offers_client import Forbidden, Invalid, offers_client
from selfcare.pages.marketing.image import ImagePart
from selfcare.pages.marketing.offer_form import FORM_DEFAULTS, Problems, form_from_offer, local_input, offer_body
from selfcare.pages.marketing.preview import PreviewPart
from selfcare.pages.marketing.results import ResultsPart
from selfcare.state.calls import Staff, core_call
from selfcare.state.staff import StaffSessionState
from selfcare.state.typed import event

logger = logging.getLogger(__name__)

MARKETING_ROUTE = "/marketing"
TABS = ("edit", "preview", "schedule", "results")
STATUS_TEXT = {
    "draft": N_("Draft"),
    "scheduled": N_("Scheduled"),
    "active": N_("Active"),
    "ended": N_("Ended"),
    "stopped": N_("Stopped"),
}
STATUS_TONE = {"draft": "gray", "scheduled": "blue", "active": "green", "ended": "gray", "stopped": "red"}


def offer_row(offer: dict[str, Any], counts: dict[str, Any], lang: str) -> dict[str, str]:
    status = str(offer.get("status") or "draft")
    return {
        "id": str(offer.get("id", "")),
        "name": str(offer.get("name") or ""),
        "title": str(offer.get("title") or ""),
        "status": gettext(lang, STATUS_TEXT.get(status, "Draft")),
        "status_key": status,
        "tone": STATUS_TONE.get(status, "gray"),
        "priority": str(offer.get("priority", "")),
        "window": " – ".join(
            format_datetime(x, lang) if x else "…" for x in (offer.get("starts_at"), offer.get("ends_at"))
        )
        if offer.get("starts_at") or offer.get("ends_at")
        else "",
        "impressions": str(int(counts.get("impressions") or 0)),
        "clicks": str(int(counts.get("clicks") or 0)),
        "acceptances": str(int(counts.get("acceptances") or 0)),
    }


class MarketingSessionState(StaffSessionState, rx.State):
    """Who is signed in to the marketing console: a marketing account (agents and supervisors are refused)."""

    ROLES: ClassVar[tuple[str, ...]] = ("marketing",)
    CONSOLE: ClassVar[str] = "marketing"
    ROUTE: ClassVar[str] = MARKETING_ROUTE
    REFUSED: ClassVar[str] = N_("This is not a marketing account. Customer service signs in at /agent.")

    marketer_name: rx.Field[str] = rx.field("")

    def _took(self, answer: dict[str, Any]) -> None:
        self.marketer_name = str(answer.get("name") or answer.get("username") or "")

    def _forget_account(self) -> None:
        self.marketer_name = ""

    def _console(self) -> type[MarketingState]:
        return MarketingState


class MarketingState(ImagePart, PreviewPart, ResultsPart, rx.State):
    """The console: the list of offers and the one selected (form, image, preview, schedule, results)."""

    rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    problems: rx.Field[list[str]] = rx.field(default_factory=list)
    busy: rx.Field[bool] = rx.field(False)
    tab: rx.Field[str] = rx.field("edit")

    # The offer being edited: 0 with ``editing`` = a new one.
    selected_id: rx.Field[int] = rx.field(0)
    editing: rx.Field[bool] = rx.field(False)
    selected_status: rx.Field[str] = rx.field("")
    selected_status_text: rx.Field[str] = rx.field("")
    form: dict[str, str] = dict(FORM_DEFAULTS)
    form_plans: rx.Field[list[str]] = rx.field(default_factory=list)
    form_key: rx.Field[str] = rx.field("0")
    plan_options: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    sells_options: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    starts_at: rx.Field[str] = rx.field("")
    ends_at: rx.Field[str] = rx.field("")

    _plans: list[str] = []
    _addons: list[str] = []
    _offers: dict[str, dict[str, Any]] = {}

    # -- helpers --------------------------------------------------------------------------------

    async def _who(self) -> tuple[MarketingSessionState, str, str]:
        return await MarketingSessionState.of(self)

    def _call(self, session: MarketingSessionState, lang: str, what: str, **options: Any):
        """A call to the core (:func:`selfcare.state.calls.core_call`): a session the core no longer accepts
        signs the console out; a refusal says which (``refused`` adds to or replaces these)."""
        refused = {
            Forbidden: N_("Only marketing accounts can do this."),
            NotFound: N_("The offer does not exist."),
            Invalid: lambda exc: gettext(lang, "Not accepted: {reason}", reason=exc.detail),
            **options.pop("refused", {}),
        }
        return core_call(
            self,
            Staff(session, lang, forget=self._forget),
            f"marketing {what}",
            N_("The core could not do this just now. Please try again."),
            refused=refused,
            **options,
        )

    def _forget(self) -> None:
        self.rows = []
        self._offers = {}
        self.error = ""
        self.notice = ""
        self.problems = []
        self._deselect()

    def _deselect(self) -> None:
        self.selected_id = 0
        self.editing = False
        self.selected_status = ""
        self.selected_status_text = ""
        self.form = dict(FORM_DEFAULTS)
        self.form_plans = []
        self.starts_at = ""
        self.ends_at = ""
        self._clear_image()
        self._clear_preview()
        self._clear_results()

    async def _refresh(self, token: str, lang: str) -> None:
        client = offers_client()
        offers = await client.offers(token)
        try:
            counts = {int(x["id"]): x for x in await client.summary(token) if "id" in x}
        except ApiError as exc:
            logger.info("marketing summary: %s", exc)
            counts = {}
        self._offers = {str(o["id"]): o for o in offers if "id" in o}
        self.rows = [offer_row(o, counts.get(int(o["id"]), {}), lang) for o in offers if "id" in o]
        if not self._plans:
            cat = await client.catalogue(token)
            plans = [p for p in cat.get("plans") or [] if p.get("on_sale", True)]
            addons = cat.get("addons") or []
            self._plans = [str(p["id"]) for p in plans]
            self._addons = [str(a["id"]) for a in addons]
            self.plan_options = [{"id": str(p["id"]), "name": str(p.get("name") or p["id"])} for p in plans]
            plan_word, addon_word = gettext(lang, "Plan"), gettext(lang, "Add-on")
            self.sells_options = [
                {"value": f"plan:{p['id']}", "label": f"{plan_word}: {p.get('name') or p['id']}"} for p in plans
            ] + [{"value": f"addon:{a['id']}", "label": f"{addon_word}: {a.get('name') or a['id']}"} for a in addons]

    def _show(self, offer: dict[str, Any], lang: str) -> None:
        """Put one offer from the core into the form and the panels."""
        self.selected_id = int(offer["id"])
        self.editing = True
        self._offers[str(offer["id"])] = offer
        status = str(offer.get("status") or "draft")
        self.selected_status = status
        self.selected_status_text = gettext(lang, STATUS_TEXT.get(status, "Draft"))
        self.form, self.form_plans = form_from_offer(offer)
        self.form_key = f"{offer['id']}-{offer.get('updated_at', '')}-{time.monotonic_ns()}"
        self._show_image(offer)
        self.starts_at = local_input(offer.get("starts_at"))
        self.ends_at = local_input(offer.get("ends_at"))

    def _selected_offer(self) -> int:
        return self.selected_id if self.selected_id > 0 and str(self.selected_id) in self._offers else 0

    # -- list -----------------------------------------------------------------------------------

    @event
    async def load(self):
        """on_load of ``/marketing`` (nothing without a marketing session)."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.error = ""
        async with self._call(session, lang, "list"):
            await self._refresh(token, lang)

    @event
    def set_tab(self, tab: str):
        self.tab = tab if tab in TABS else "edit"
        return MarketingState.show_results if self.tab == "results" and self.selected_id else None

    @event
    async def new_offer(self):
        """An empty form for a new offer."""
        _session, token, _lang = await self._who()
        if not token:
            self._forget()
            return
        self._deselect()
        self.editing = True
        self.tab = "edit"
        self.problems = []
        self.notice = ""
        self.error = ""
        self.form_key = f"new-{time.monotonic_ns()}"

    @event
    async def select(self, offer_id: str):
        """Open one offer of the list."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        if not isinstance(offer_id, str | int) or not str(offer_id).isdigit():
            return
        self.error, self.notice, self.problems = "", "", []
        async with self._call(session, lang, "offer") as call:
            offer = await offers_client().offer(token, int(offer_id))
        if call.failed:
            return
        self._deselect()
        self._show(offer, lang)
        if self.tab == "results":
            await self._load_results(token, lang)

    # -- the form -------------------------------------------------------------------------------

    @event
    async def save(self, form: dict[str, Any]):
        """Create the offer (a draft) or save the changes of the selected one."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.error, self.notice = "", ""
        body, problems = offer_body(
            form if isinstance(form, dict) else {},
            set(self._plans),
            set(self._addons),
            lang,
            image_id=self.image_id or None,
        )
        self.problems = problems
        if body is None:  # the inputs keep what was typed; the problems show above them
            return
        offer_id = self._selected_offer()
        if offer_id:
            current = self._offers[str(offer_id)]
            body["starts_at"], body["ends_at"] = current.get("starts_at"), current.get("ends_at")
        else:
            body["starts_at"], body["ends_at"] = None, None
        self.busy = True
        yield
        async with self._call(session, lang, "save", busy="busy") as call:
            client = offers_client()
            saved = await (client.update(token, offer_id, body) if offer_id else client.create(token, body))
            await self._refresh(token, lang)
        if call.failed:
            return
        self._show(saved, lang)
        self.notice = (
            gettext(lang, "The offer is saved.")
            if offer_id
            else gettext(lang, "The offer is saved as a draft. Schedule it to show it.")
        )

    # -- schedule and stop ---------------------------------------------------------------------

    @event
    async def schedule(self, form: dict[str, Any]):
        """Start (empty: now) and end (empty: open) of the selected offer."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        p = Problems(lang)
        starts = p.moment(form if isinstance(form, dict) else {}, "starts_at", N_("Start"))
        ends = p.moment(form if isinstance(form, dict) else {}, "ends_at", N_("End"))
        if starts and ends and datetime.fromisoformat(ends) <= datetime.fromisoformat(starts):
            p.add(N_("End"), N_("after the start"))
        self.problems = p.items
        self.error, self.notice = "", ""
        if p.items:
            return
        async with self._call(session, lang, "schedule") as call:
            offer = await offers_client().schedule(token, offer_id, starts, ends)
            await self._refresh(token, lang)
        if call.failed:
            return
        self._show(offer, lang)
        self.notice = gettext(lang, "The offer is scheduled: {status}.", status=self.selected_status_text)

    @event
    async def stop_offer(self):
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        self.error, self.notice = "", ""
        async with self._call(session, lang, "stop") as call:
            offer = await offers_client().stop(token, offer_id)
            await self._refresh(token, lang)
        if call.failed:
            return
        self._show(offer, lang)
        self.notice = gettext(lang, "The offer is stopped and no longer shown.")
