"""The marketing console (``/marketing``): sign-in, offers, the offer form, image, preview, schedule, results.

The marketer's session is separate from the subscriber's and the agent's:
:class:`MarketingSessionState` keeps the JWT in a backend-only field and only accepts accounts
with the role ``marketing`` (support staff are refused with a pointer to ``/agent``). Every
handler of :class:`MarketingState` starts by asking it for a live token; without one it does
nothing. The core checks the role again on every call.

The form is turned into the core's Offer body by :func:`offer_body` (plain function, tested on
its own): every problem names its field, and nothing is sent while there is one.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import reflex as rx

from selfcare import client_address
from selfcare.api_client import ApiError, NotFound, Unauthorized
from selfcare.brand import brand
from selfcare.i18n import N_, format_datetime, format_money, format_number, gettext
from selfcare.offers_client import Forbidden, Invalid, offers_client
from selfcare.state.offers import banner_view
from selfcare.state.session import SessionState, _epoch
from selfcare.state.staff import check_credentials, live_token, staff_sign_in
from selfcare.support_client import support_client

logger = logging.getLogger(__name__)

MARKETING_ROUTE = "/marketing"
MAX_IMAGE_BYTES = 1024 * 1024
LOCAL_TZ = ZoneInfo("Europe/Stockholm")
TABS = ("edit", "preview", "schedule", "results")
STATUS_TEXT = {"draft": N_("Draft"), "scheduled": N_("Scheduled"), "active": N_("Active"), "ended": N_("Ended"),
               "stopped": N_("Stopped")}
STATUS_TONE = {"draft": "gray", "scheduled": "blue", "active": "green", "ended": "gray", "stopped": "red"}

# The form's fields with their defaults (all strings; checkboxes "on" or "").
FORM_DEFAULTS: dict[str, str] = {
    "name": "", "title": "", "body": "", "cta": "", "sells": "",
    "terms_percent": "", "terms_amount_kr": "", "terms_periods": "", "terms_text_sv": "", "terms_text_en": "",
    "effective": "now", "priority": "10", "cap_impressions": "3", "cap_days": "7",
    "placement_overview": "on", "placement_invoice": "on",
    "data_min_percent": "", "data_periods": "", "data_of_last": "",
    "overage_min_kr": "", "overage_periods": "", "overage_of_last": "",
    "roaming_periods": "", "roaming_of_last": "",
    "tenure_min": "", "tenure_max": "",
    "exclude_overdue": "on", "exclude_collection": "on", "recommended": "",
}
# The core's defaults of a usage rule's values (it stores only what differs from them).
RULE_DEFAULTS: dict[str, int] = {"min_percent": 90, "periods": 1, "of_last": 3}


def image_type(data: bytes) -> str | None:
    """The image's content type from its first bytes (PNG, JPEG, WebP), or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _checked(form: dict[str, Any], key: str) -> bool:
    return form.get(key) in ("on", "true", True, "1")


class _Problems:
    """Collects "Field: what is wrong" lines in the console's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.items: list[str] = []

    def add(self, field: str, problem: str, **params: Any) -> None:
        self.items.append(f"{gettext(self.lang, field)}: {gettext(self.lang, problem, **params)}")

    def integer(self, form: dict[str, Any], key: str, field: str, lo: int, hi: int) -> int | None:
        raw = _text(form, key)
        if raw == "":
            return None
        if not raw.lstrip("-").isdigit() or not lo <= int(raw) <= hi:
            self.add(field, N_("a whole number from {lo} to {hi}"), lo=lo, hi=hi)
            return None
        return int(raw)

    def kronor(self, form: dict[str, Any], key: str, field: str) -> int | None:
        raw = _text(form, key).replace("kr", "").replace(" ", "").replace("\u00a0", "").replace(",", ".")
        if raw == "":
            return None
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            amount = Decimal(-1)
        if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 1_000_000:
            self.add(field, N_("an amount in kronor, e.g. 49 or 49,50"))
            return None
        return int(amount * 100)

    def moment(self, form: dict[str, Any], key: str, field: str) -> str | None:
        raw = _text(form, key)
        if raw == "":
            return None
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            self.add(field, N_("a date and time, e.g. 2026-11-01 08:00"))
            return None
        if local.tzinfo is None:
            local = local.replace(tzinfo=LOCAL_TZ)
        return local.isoformat()


def _window(p: _Problems, form: dict[str, Any], key: str, field: str, need: tuple[str, ...]) -> dict[str, int] | None:
    """A "≥ x in N of last M periods" rule: all of its numbers, or none."""
    values = {name: p.integer(form, f"{key}_{name}", field, lo, hi) for name, lo, hi in need}
    given = {k: v for k, v in values.items() if v is not None}
    raw_given = [n for n, _lo, _hi in need if _text(form, f"{key}_{n}")]
    if not raw_given:
        return None
    if len(given) != len(need):
        if len(raw_given) != len(need):
            p.add(field, N_("fill in every number of the rule, or none"))
        return None
    if "periods" in given and "of_last" in given and given["periods"] > given["of_last"]:
        p.add(field, N_("the periods cannot be more than the last periods looked at"))
        return None
    return given


def offer_body(form: dict[str, Any], plans: set[str], addons: set[str], lang: str, *,
               image_id: int | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """The core's Offer body from the console's form, or ``None`` and the problems (each names its field)."""
    p = _Problems(lang)
    if not isinstance(form, dict):
        return None, [gettext(lang, "The form was empty.")]
    body: dict[str, Any] = {}
    for key, field, limit in (("name", N_("Internal name"), 120), ("title", N_("Title"), 120),
                              ("body", N_("Text"), 600), ("cta", N_("Button text"), 40)):
        value = _text(form, key)
        if not value and key != "body":
            p.add(field, N_("fill it in"))
        elif len(value) > limit:
            p.add(field, N_("at most {limit} characters"), limit=limit)
        body[key] = value
    kind, _, sells_id = _text(form, "sells").partition(":")
    if kind == "plan" and sells_id in plans or kind == "addon" and sells_id in addons:
        body["sells"] = {"kind": kind, "id": sells_id}
    else:
        p.add(N_("Sells"), N_("choose a plan or an add-on"))
    percent = _text(form, "terms_percent").replace(",", ".")
    amount_ore = p.kronor(form, "terms_amount_kr", N_("Discount (kr)"))
    periods = p.integer(form, "terms_periods", N_("Discount months"), 1, 36)
    if percent or amount_ore is not None or periods is not None:
        pct: Decimal | None = None
        if percent:
            try:
                pct = Decimal(percent)
            except InvalidOperation:
                pct = None
            if pct is None or not Decimal(0) <= pct <= Decimal(100):
                p.add(N_("Discount (%)"), N_("a percentage from 0 to 100"))
                pct = None
        if percent and amount_ore is not None:
            p.add(N_("Discount (%)"), N_("give a percentage or an amount, not both"))
        elif not percent and amount_ore is None and periods is not None:
            p.add(N_("Discount (%)"), N_("give a percentage or an amount"))
        if periods is None and not _text(form, "terms_periods"):
            p.add(N_("Discount months"), N_("fill it in"))
        body["terms"] = {"percent": None if pct is None else format(pct.normalize(), "f"),
                         "amount_ore": amount_ore, "periods": periods}
    else:
        body["terms"] = None
    body["terms_text"] = {"sv": _text(form, "terms_text_sv"), "en": _text(form, "terms_text_en")}
    effective = _text(form, "effective") or "now"
    if effective not in ("now", "next_period"):
        p.add(N_("Takes effect"), N_("now or from the next period"))
    body["effective"] = effective
    body["priority"] = p.integer(form, "priority", N_("Priority"), 0, 1000)
    if body["priority"] is None:
        body["priority"] = 0
    cap_n = p.integer(form, "cap_impressions", N_("Shown at most (times)"), 1, 100)
    cap_d = p.integer(form, "cap_days", N_("Per (days)"), 1, 365)
    body["cap"] = {"impressions": cap_n or 3, "days": cap_d or 7}
    placements = [x for x in ("overview", "invoice") if _checked(form, f"placement_{x}")]
    if not placements:
        p.add(N_("Placements"), N_("choose at least one page"))
    body["placements"] = placements

    rules: dict[str, Any] = {}
    chosen = sorted(k.removeprefix("rule_plan_") for k in form if isinstance(k, str) and k.startswith("rule_plan_")
                    and _checked(form, k))
    unknown = [x for x in chosen if x not in plans]
    if unknown:
        p.add(N_("Current plan"), N_("unknown plan {plan}"), plan=unknown[0])
    if chosen:
        rules["plans"] = chosen
    if (data := _window(p, form, "data", N_("Data usage"), (("min_percent", 1, 1000), ("periods", 1, 12),
                                                        ("of_last", 1, 12)))) is not None:
        rules["data_usage"] = data
    overage_ore = p.kronor(form, "overage_min_kr", N_("Overage"))
    overage = _window(p, form, "overage", N_("Overage"), (("periods", 1, 12), ("of_last", 1, 12)))
    if overage is not None or overage_ore is not None:
        if overage is None:
            p.add(N_("Overage"), N_("fill in every number of the rule, or none"))
        else:
            rules["overage"] = {"min_ore": overage_ore if overage_ore else 1, **overage}
    if (roaming := _window(p, form, "roaming", N_("Roaming"), (("periods", 1, 12), ("of_last", 1, 12)))) is not None:
        rules["roaming"] = roaming
    t_min = p.integer(form, "tenure_min", N_("Tenure"), 0, 600)
    t_max = p.integer(form, "tenure_max", N_("Tenure"), 0, 600)
    if t_min is not None and t_max is not None and t_max < t_min:
        p.add(N_("Tenure"), N_("the most months cannot be fewer than the least"))
    if t_min is not None or t_max is not None:
        rules["tenure_months"] = {"min": t_min, "max": t_max}
    rules["exclude_overdue"] = _checked(form, "exclude_overdue")
    rules["exclude_collection"] = _checked(form, "exclude_collection")
    if _checked(form, "recommended"):
        if kind != "plan":
            p.add(N_("Recommended plan"), N_("only for an offer that sells a plan"))
        rules["recommended"] = True
    body["rules"] = rules
    body["image_id"] = image_id if image_id else None
    if p.items:
        return None, p.items
    return body, []


def form_from_offer(offer: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The form's values (strings) and checked rule plans for an offer from the core."""
    form = dict(FORM_DEFAULTS)
    for key in ("name", "title", "body", "cta"):
        form[key] = str(offer.get(key) or "")
    sells = offer.get("sells") or {}
    form["sells"] = f"{sells.get('kind', '')}:{sells.get('id', '')}" if sells else ""
    terms = offer.get("terms") or {}
    form["terms_percent"] = str(terms.get("percent") or "") if terms.get("percent") is not None else ""
    amount = terms.get("amount_ore")
    form["terms_amount_kr"] = format(Decimal(amount).scaleb(-2).normalize(), "f") if type(amount) is int else ""
    form["terms_periods"] = str(terms.get("periods") or "") if terms else ""
    text = offer.get("terms_text") or {}
    form["terms_text_sv"] = str(text.get("sv") or "") if isinstance(text, dict) else ""
    form["terms_text_en"] = str(text.get("en") or "") if isinstance(text, dict) else ""
    form["effective"] = str(offer.get("effective") or "now")
    form["priority"] = str(offer.get("priority") if offer.get("priority") is not None else 0)
    cap = offer.get("cap") or {}
    form["cap_impressions"] = str(cap.get("impressions") or 3)
    form["cap_days"] = str(cap.get("days") or 7)
    placements = offer.get("placements") or []
    form["placement_overview"] = "on" if "overview" in placements else ""
    form["placement_invoice"] = "on" if "invoice" in placements else ""
    rules = offer.get("rules") or {}
    # The core leaves out a rule's values that equal its defaults; a rule that is there gets them back.
    for key, names in (("data_usage", ("min_percent", "periods", "of_last")), ("overage", ("periods", "of_last")),
                       ("roaming", ("periods", "of_last"))):
        prefix = "data" if key == "data_usage" else key
        rule = rules.get(key)
        for name in names:
            value = {**RULE_DEFAULTS, **rule}.get(name) if isinstance(rule, dict) else None
            form[f"{prefix}_{name}"] = str(value) if value is not None else ""
    overage = rules.get("overage")
    over = {"min_ore": 1, **overage}.get("min_ore") if isinstance(overage, dict) else None
    form["overage_min_kr"] = format(Decimal(over).scaleb(-2).normalize(), "f") if type(over) is int else ""
    tenure = rules.get("tenure_months") or {}
    form["tenure_min"] = str(tenure["min"]) if tenure.get("min") is not None else ""
    form["tenure_max"] = str(tenure["max"]) if tenure.get("max") is not None else ""
    form["exclude_overdue"] = "on" if rules.get("exclude_overdue", True) else ""
    form["exclude_collection"] = "on" if rules.get("exclude_collection", True) else ""
    form["recommended"] = "on" if rules.get("recommended") else ""
    return form, [str(x) for x in rules.get("plans") or []]


def local_input(value: Any) -> str:
    """An ISO timestamp from the core as a ``datetime-local`` input value in Stockholm time."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(LOCAL_TZ)
    return moment.strftime("%Y-%m-%dT%H:%M")


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
        "window": " – ".join(format_datetime(x, lang) if x else "…"
                             for x in (offer.get("starts_at"), offer.get("ends_at"))) if
        offer.get("starts_at") or offer.get("ends_at") else "",
        "impressions": str(int(counts.get("impressions") or 0)),
        "clicks": str(int(counts.get("clicks") or 0)),
        "acceptances": str(int(counts.get("acceptances") or 0)),
    }


def percent_text(conversion: Any, lang: str) -> str:
    """``"0.0500"`` → ``5,0 %`` / ``5.0 %``."""
    try:
        value = Decimal(str(conversion)) * 100
    except InvalidOperation:
        return "–"
    return f"{format_number(value.quantize(Decimal('0.1')), lang, '0.0')}\u00a0%"


def results_figures(results: dict[str, Any], lang: str) -> tuple[go.Figure, go.Figure]:
    """Impressions, clicks and acceptances per day (grouped bars) and the funnel (horizontal bars)."""
    c = brand().colors
    daily = results.get("daily") or []
    days = [str(d.get("date")) for d in daily]
    over_time = go.Figure()
    for key, label, colour in (("impressions", N_("Impressions"), c.primary), ("clicks", N_("Clicks"), c.accent),
                               ("acceptances", N_("Acceptances"), c.success)):
        over_time.add_bar(x=days, y=[int(d.get(key) or 0) for d in daily], name=gettext(lang, label),
                          marker_color=colour)
    layout = {"height": 300, "margin": {"l": 48, "r": 16, "t": 40, "b": 40}, "paper_bgcolor": c.surface,
              "plot_bgcolor": c.surface, "font": {"family": "system-ui, sans-serif", "size": 12, "color": c.text},
              "legend": {"orientation": "h", "y": -0.2}}
    over_time.update_layout(title={"text": gettext(lang, "Per day"), "x": 0.02}, xaxis={"type": "category"},
                            barmode="group", bargap=0.3, **layout)
    stages = results.get("funnel") or []
    names = {"impressions": N_("Impressions"), "clicks": N_("Clicks"), "acceptances": N_("Acceptances")}
    funnel = go.Figure()
    funnel.add_bar(y=[gettext(lang, names.get(str(s.get("stage")), str(s.get("stage")))) for s in stages][::-1],
                   x=[int(s.get("count") or 0) for s in stages][::-1], orientation="h",
                   marker_color=[c.success, c.accent, c.primary][-len(stages):] if stages else None,
                   text=[str(int(s.get("count") or 0)) for s in stages][::-1], textposition="auto")
    funnel.update_layout(title={"text": gettext(lang, "Funnel"), "x": 0.02}, showlegend=False, **layout)
    return over_time, funnel


class MarketingSessionState(rx.State):
    """Who is signed in to the marketing console. The token never reaches the browser."""

    signed_in: bool = False
    marketer_name: str = ""
    login_error: str = ""
    signing_in: bool = False

    _token: str = ""
    _expires_at: float = 0.0

    def live_token(self) -> str:
        return live_token(self)

    def _drop(self) -> None:
        self._token = ""
        self._expires_at = 0.0
        self.signed_in = False
        self.marketer_name = ""

    @rx.event
    async def sign_in(self, form: dict[str, Any]):
        """Username and password of a marketing account (agents and supervisors are refused)."""
        lang = (await self.get_state(SessionState))._lang()
        username, password, self.login_error = check_credentials(form, lang)
        if self.login_error:
            return
        self.signing_in = True
        yield
        try:
            answer, self.login_error = await staff_sign_in(
                username, password, client_ip=client_address.of_state(self), roles=("marketing",),
                lang=lang, console="marketing",
                refused_text=N_("This is not a marketing account. Customer service signs in at /agent."))
        finally:
            self.signing_in = False
        if answer is None:
            return
        token = str(answer.get("access_token") or "")
        self._token = token
        self._expires_at = _epoch(answer.get("expires_at"), 8 * 3600)
        self.signed_in = True
        self.marketer_name = str(answer.get("name") or answer.get("username") or "")
        yield MarketingState.load

    @rx.event
    async def sign_out(self):
        token = self._token
        self._drop()
        (await self.get_state(MarketingState))._forget()
        if token:
            try:
                await support_client().logout(token)
            except ApiError as exc:
                logger.info("marketing logout: %s", exc)
        return rx.redirect(MARKETING_ROUTE)


class MarketingState(rx.State):
    """The console: the list of offers and the one selected (form, preview, schedule, results)."""

    rows: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""
    problems: list[str] = []
    busy: bool = False
    tab: str = "edit"

    # The offer being edited: 0 with ``editing`` = a new one.
    selected_id: int = 0
    editing: bool = False
    selected_status: str = ""
    selected_status_text: str = ""
    form: dict[str, str] = dict(FORM_DEFAULTS)
    form_plans: list[str] = []
    form_key: str = "0"
    plan_options: list[dict[str, str]] = []
    sells_options: list[dict[str, str]] = []
    image_id: int = 0
    image_src: str = ""
    image_error: str = ""
    starts_at: str = ""
    ends_at: str = ""

    # Preview.
    segment_text: str = ""
    segment_sample: list[dict[str, str]] = []
    preview_customer: str = ""
    preview_matches: str = ""
    preview_reasons: list[str] = []
    preview_banner: dict[str, str] = {}

    # Results.
    results: dict[str, str] = {}
    daily_fig: go.Figure = go.Figure()
    funnel_fig: go.Figure = go.Figure()

    _plans: list[str] = []
    _addons: list[str] = []
    _offers: dict[str, dict[str, Any]] = {}

    # -- helpers --------------------------------------------------------------------------------

    async def _who(self) -> tuple[MarketingSessionState, str, str]:
        session = await self.get_state(MarketingSessionState)
        return session, session.live_token(), (await self.get_state(SessionState))._lang()

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
        self.image_id = 0
        self.image_src = ""
        self.image_error = ""
        self.starts_at = ""
        self.ends_at = ""
        self._clear_preview()
        self.results = {}
        self.daily_fig = go.Figure()
        self.funnel_fig = go.Figure()

    def _clear_preview(self) -> None:
        self.segment_text = ""
        self.segment_sample = []
        self.preview_matches = ""
        self.preview_reasons = []
        self.preview_banner = {}

    def _lost(self, session: MarketingSessionState, lang: str) -> None:
        session._drop()
        self._forget()
        session.login_error = gettext(lang, "Your session has ended. Sign in again.")

    def _failed(self, exc: ApiError, session: MarketingSessionState, lang: str, what: str) -> None:
        if isinstance(exc, Unauthorized):
            self._lost(session, lang)
        elif isinstance(exc, Forbidden):
            self.error = gettext(lang, "Only marketing accounts can do this.")
        elif isinstance(exc, NotFound):
            self.error = gettext(lang, "The offer does not exist.")
        elif isinstance(exc, Invalid):
            self.error = gettext(lang, "Not accepted: {reason}", reason=exc.detail)
        else:
            logger.warning("marketing %s: %s", what, exc)
            self.error = gettext(lang, "The core could not do this just now. Please try again.")

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
            self.sells_options = (
                [{"value": f"plan:{p['id']}", "label": f"{plan_word}: {p.get('name') or p['id']}"} for p in plans]
                + [{"value": f"addon:{a['id']}", "label": f"{addon_word}: {a.get('name') or a['id']}"}
                   for a in addons])

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
        image_id = offer.get("image_id")
        self.image_id = image_id if type(image_id) is int else 0
        from selfcare.state.offers import image_src

        self.image_src = image_src(offer.get("image_url"))
        self.starts_at = local_input(offer.get("starts_at"))
        self.ends_at = local_input(offer.get("ends_at"))

    def _selected_offer(self) -> int:
        return self.selected_id if self.selected_id > 0 and str(self.selected_id) in self._offers else 0

    # -- list -----------------------------------------------------------------------------------

    @rx.event
    async def load(self):
        """on_load of ``/marketing`` (nothing without a marketing session)."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.error = ""
        try:
            await self._refresh(token, lang)
        except ApiError as exc:
            self._failed(exc, session, lang, "list")

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab if tab in TABS else "edit"
        return MarketingState.show_results if self.tab == "results" and self.selected_id else None

    @rx.event
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

    @rx.event
    async def select(self, offer_id: str):
        """Open one offer of the list."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        if not isinstance(offer_id, str | int) or not str(offer_id).isdigit():
            return
        self.error, self.notice, self.problems = "", "", []
        try:
            offer = await offers_client().offer(token, int(offer_id))
        except ApiError as exc:
            self._failed(exc, session, lang, "offer")
            return
        self._deselect()
        self._show(offer, lang)
        if self.tab == "results":
            await self._load_results(token, lang)

    # -- the form -------------------------------------------------------------------------------

    @rx.event
    async def save(self, form: dict[str, Any]):
        """Create the offer (a draft) or save the changes of the selected one."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.error, self.notice = "", ""
        body, problems = offer_body(form if isinstance(form, dict) else {}, set(self._plans), set(self._addons),
                                    lang, image_id=self.image_id or None)
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
        try:
            client = offers_client()
            saved = await (client.update(token, offer_id, body) if offer_id else client.create(token, body))
            await self._refresh(token, lang)
        except ApiError as exc:
            self._failed(exc, session, lang, "save")
            self.busy = False
            return
        self.busy = False
        self._show(saved, lang)
        self.notice = gettext(lang, "The offer is saved.") if offer_id else \
            gettext(lang, "The offer is saved as a draft. Schedule it to show it.")

    @rx.event
    async def upload_image(self, files: list[rx.UploadFile]):
        """The banner image: PNG, JPEG or WebP up to 1 MB (checked here, and again by the core)."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.image_error = ""
        if not files:
            return
        upload = files[0]
        data = upload.file.read(MAX_IMAGE_BYTES + 1)
        if len(data) > MAX_IMAGE_BYTES:
            self.image_error = gettext(lang, "Image: at most 1 MB.")
            return
        kind = image_type(data)
        if kind is None:
            self.image_error = gettext(lang, "Image: a PNG, JPEG or WebP picture.")
            return
        try:
            answer = await offers_client().upload_image(token, str(upload.filename or "image"), data, kind)
        except Invalid as exc:
            self.image_error = gettext(lang, "Image: {reason}", reason=exc.detail)
            return
        except ApiError as exc:
            self._failed(exc, session, lang, "image")
            return
        from selfcare.state.offers import image_src

        self.image_id = int(answer["id"])
        self.image_src = image_src(answer.get("url"))
        self.notice = gettext(lang, "The image is uploaded. Save the offer to use it.")

    @rx.event
    async def image_rejected(self, rejected: list[dict[str, Any]]):
        """The drop zone's own refusal (too large, wrong type, more than one) before anything is sent."""
        lang = (await self.get_state(SessionState))._lang()
        self.image_error = gettext(lang, "Image: one PNG, JPEG or WebP picture of at most 1 MB.") if rejected else ""

    @rx.event
    def remove_image(self):
        self.image_id = 0
        self.image_src = ""

    # -- schedule and stop ---------------------------------------------------------------------

    @rx.event
    async def schedule(self, form: dict[str, Any]):
        """Start (empty: now) and end (empty: open) of the selected offer."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        p = _Problems(lang)
        starts = p.moment(form if isinstance(form, dict) else {}, "starts_at", N_("Start"))
        ends = p.moment(form if isinstance(form, dict) else {}, "ends_at", N_("End"))
        if starts and ends and datetime.fromisoformat(ends) <= datetime.fromisoformat(starts):
            p.add(N_("End"), N_("after the start"))
        self.problems = p.items
        self.error, self.notice = "", ""
        if p.items:
            return
        try:
            offer = await offers_client().schedule(token, offer_id, starts, ends)
            await self._refresh(token, lang)
        except ApiError as exc:
            self._failed(exc, session, lang, "schedule")
            return
        self._show(offer, lang)
        self.notice = gettext(lang, "The offer is scheduled: {status}.", status=self.selected_status_text)

    @rx.event
    async def stop_offer(self):
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        self.error, self.notice = "", ""
        try:
            offer = await offers_client().stop(token, offer_id)
            await self._refresh(token, lang)
        except ApiError as exc:
            self._failed(exc, session, lang, "stop")
            return
        self._show(offer, lang)
        self.notice = gettext(lang, "The offer is stopped and no longer shown.")

    # -- preview -------------------------------------------------------------------------------

    @rx.event
    async def preview_segment(self):
        """How many subscribers the saved rules match now, with a sample."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        offer = self._offers[str(offer_id)]
        try:
            answer = await offers_client().segment_preview(token, offer.get("rules") or {}, offer.get("sells"))
        except ApiError as exc:
            self._failed(exc, session, lang, "segment")
            return
        self.segment_text = gettext(lang, "{matching} of {total} subscribers match now.",
                                    matching=int(answer.get("matching") or 0), total=int(answer.get("total") or 0))
        self.segment_sample = [{"customer_number": str(x.get("customer_number") or ""), "name": str(x.get("name") or "")}
                               for x in answer.get("sample") or []]

    @rx.event
    async def preview_for(self, form: dict[str, Any]):
        """The banner as one subscriber (customer number) would see it, and why they match or not."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        number = _text(form if isinstance(form, dict) else {}, "customer_number").upper()
        self.preview_customer = number
        self.preview_matches, self.preview_reasons, self.preview_banner = "", [], {}
        if not number or len(number) > 20 or not number[1:].isdigit():
            self.problems = [gettext(lang, "Customer number: e.g. K100004.")]
            return
        self.problems = []
        try:
            answer = await offers_client().offer_preview(token, offer_id, number, lang)
        except NotFound:
            self.problems = [gettext(lang, "Customer number: no such customer.")]
            return
        except ApiError as exc:
            self._failed(exc, session, lang, "preview")
            return
        self.preview_matches = gettext(lang, "Matches") if answer.get("matches") else gettext(lang, "Does not match")
        self.preview_reasons = [str(x) for x in answer.get("reasons") or []]
        banner = answer.get("banner")
        self.preview_banner = banner_view({"offer_id": offer_id, **banner}, lang) if isinstance(banner, dict) else {}

    @rx.event
    def use_sample(self, customer_number: str):
        """Fill the preview's customer number from the sample list."""
        if isinstance(customer_number, str) and len(customer_number) <= 20:
            self.preview_customer = customer_number
            return rx.set_value("preview-customer", customer_number)
        return None

    # -- results -------------------------------------------------------------------------------

    async def _load_results(self, token: str, lang: str) -> None:
        offer_id = self._selected_offer()
        if not offer_id:
            return
        r = await offers_client().results(token, offer_id)
        extra = r.get("extra_monthly_revenue_ore")
        self.results = {
            "impressions": str(int(r.get("impressions") or 0)),
            "clicks": str(int(r.get("clicks") or 0)),
            "dismissals": str(int(r.get("dismissals") or 0)),
            "acceptances": str(int(r.get("acceptances") or 0)),
            "conversion": percent_text(r.get("conversion") or "0", lang),
            "extra_revenue": format_money(extra if type(extra) is int else 0, lang),
        }
        self.daily_fig, self.funnel_fig = results_figures(r, lang)

    @rx.event
    async def show_results(self):
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.tab = "results"
        try:
            await self._load_results(token, lang)
            await self._refresh(token, lang)  # the list's counts too
        except ApiError as exc:
            self._failed(exc, session, lang, "results")
