"""The marketing console's offer form: the core's Offer body from the form, and the form from an offer.

Plain functions, tested on their own: every problem names its field (in the console's language),
and nothing is sent while there is one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from selfcare.i18n import N_, gettext

LOCAL_TZ = ZoneInfo("Europe/Stockholm")

# The form's fields with their defaults (all strings; checkboxes "on" or "").
FORM_DEFAULTS: dict[str, str] = {
    "name": "",
    "title": "",
    "body": "",
    "cta": "",
    "sells": "",
    "terms_percent": "",
    "terms_amount_kr": "",
    "terms_periods": "",
    "terms_text_sv": "",
    "terms_text_en": "",
    "effective": "now",
    "priority": "10",
    "cap_impressions": "3",
    "cap_days": "7",
    "placement_overview": "on",
    "placement_invoice": "on",
    "data_min_percent": "",
    "data_periods": "",
    "data_of_last": "",
    "overage_min_kr": "",
    "overage_periods": "",
    "overage_of_last": "",
    "roaming_periods": "",
    "roaming_of_last": "",
    "tenure_min": "",
    "tenure_max": "",
    "exclude_overdue": "on",
    "exclude_collection": "on",
    "recommended": "",
    "data_alert": "",
}
# The core's defaults of a usage rule's values (it stores only what differs from them).
RULE_DEFAULTS: dict[str, int] = {"min_percent": 90, "periods": 1, "of_last": 3}


def _text(form: dict[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _checked(form: dict[str, Any], key: str) -> bool:
    return form.get(key) in ("on", "true", True, "1")


class Problems:
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


def _window(
    p: Problems, form: dict[str, Any], key: str, field: str, need: tuple[tuple[str, int, int], ...]
) -> dict[str, int] | None:
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


def offer_body(
    form: dict[str, Any], plans: set[str], addons: set[str], lang: str, *, image_id: int | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The core's Offer body from the console's form, or ``None`` and the problems (each names its field)."""
    p = Problems(lang)
    if not isinstance(form, dict):
        return None, [gettext(lang, "The form was empty.")]
    body = _texts(p, form)
    kind, _, sells_id = _text(form, "sells").partition(":")
    if kind == "plan" and sells_id in plans or kind == "addon" and sells_id in addons:
        body["sells"] = {"kind": kind, "id": sells_id}
    else:
        p.add(N_("Sells"), N_("choose a plan or an add-on"))
    body["terms"] = _terms(p, form)
    body["terms_text"] = {"sv": _text(form, "terms_text_sv"), "en": _text(form, "terms_text_en")}
    body.update(_showing(p, form))
    body["rules"] = _rules(p, form, plans, kind)
    body["image_id"] = image_id if image_id else None
    if p.items:
        return None, p.items
    return body, []


def _texts(p: Problems, form: dict[str, Any]) -> dict[str, Any]:
    """Internal name, title, text and button text."""
    body: dict[str, Any] = {}
    for key, field, limit in (
        ("name", N_("Internal name"), 120),
        ("title", N_("Title"), 120),
        ("body", N_("Text"), 600),
        ("cta", N_("Button text"), 40),
    ):
        value = _text(form, key)
        if not value and key != "body":
            p.add(field, N_("fill it in"))
        elif len(value) > limit:
            p.add(field, N_("at most {limit} characters"), limit=limit)
        body[key] = value
    return body


def _terms(p: Problems, form: dict[str, Any]) -> dict[str, Any] | None:
    """The discount: a percentage or an amount, for a number of months (``None``: no discount)."""
    percent = _text(form, "terms_percent").replace(",", ".")
    amount_ore = p.kronor(form, "terms_amount_kr", N_("Discount (kr)"))
    periods = p.integer(form, "terms_periods", N_("Discount months"), 1, 36)
    if not (percent or amount_ore is not None or periods is not None):
        return None
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
    return {
        "percent": None if pct is None else format(pct.normalize(), "f"),
        "amount_ore": amount_ore,
        "periods": periods,
    }


def _showing(p: Problems, form: dict[str, Any]) -> dict[str, Any]:
    """When it takes effect, its priority, how often it is shown and on which pages."""
    effective = _text(form, "effective") or "now"
    if effective not in ("now", "next_period"):
        p.add(N_("Takes effect"), N_("now or from the next period"))
    priority = p.integer(form, "priority", N_("Priority"), 0, 1000)
    cap_n = p.integer(form, "cap_impressions", N_("Shown at most (times)"), 1, 100)
    cap_d = p.integer(form, "cap_days", N_("Per (days)"), 1, 365)
    placements = [x for x in ("overview", "invoice") if _checked(form, f"placement_{x}")]
    if not placements:
        p.add(N_("Placements"), N_("choose at least one page"))
    return {
        "effective": effective,
        "priority": 0 if priority is None else priority,
        "cap": {"impressions": cap_n or 3, "days": cap_d or 7},
        "placements": placements,
    }


def _rules(p: Problems, form: dict[str, Any], plans: set[str], kind: str) -> dict[str, Any]:
    """Who sees the offer: current plans, usage windows, tenure, exclusions and the recommendation."""
    rules: dict[str, Any] = {}
    chosen = sorted(
        k.removeprefix("rule_plan_")
        for k in form
        if isinstance(k, str) and k.startswith("rule_plan_") and _checked(form, k)
    )
    unknown = [x for x in chosen if x not in plans]
    if unknown:
        p.add(N_("Current plan"), N_("unknown plan {plan}"), plan=unknown[0])
    if chosen:
        rules["plans"] = chosen
    if (
        data := _window(
            p, form, "data", N_("Data usage"), (("min_percent", 1, 1000), ("periods", 1, 12), ("of_last", 1, 12))
        )
    ) is not None:
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
    if _checked(form, "data_alert"):
        rules["data_alert"] = True
    if _checked(form, "recommended"):
        if kind != "plan":
            p.add(N_("Recommended plan"), N_("only for an offer that sells a plan"))
        rules["recommended"] = True
    return rules


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
    for key, names in (
        ("data_usage", ("min_percent", "periods", "of_last")),
        ("overage", ("periods", "of_last")),
        ("roaming", ("periods", "of_last")),
    ):
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
    form["data_alert"] = "on" if rules.get("data_alert") else ""
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
