"""Segment rules of offers: who an offer is for, judged on invoiced usage, tenure and payment standing.

Rules (all optional; every rule given must hold; see docs/offers.md):

* ``plans``: the subscription's current plan is one of them;
* ``data_usage`` ``{min_percent, periods, of_last}``: data used ≥ ``min_percent`` % of the
  period's data allowance (prorated like the bill run's) in at least ``periods`` of the
  customer's last ``of_last`` invoiced periods;
* ``overage`` ``{min_ore, periods, of_last}``: usage charged beyond an allowance (and the EU
  fair-use surcharge) ≥ ``min_ore`` in at least ``periods`` of the last ``of_last``;
* ``roaming`` ``{periods, of_last}``: any roaming event (EU/EEA or outside) in at least ``periods``;
* ``tenure_months`` ``{min, max}``: whole months since the customer's first subscription began;
* ``exclude_overdue``, ``exclude_collection`` (both default true): no unpaid invoice past its
  due date / none handed to collection;
* ``recommended``: re-rating the last three invoiced periods (``services.offers.recommend``) shows the
  plan the offer sells would have served them better (or, with nothing sold, that any plan would).

Usage rules look at one subscription; a customer matches when one of their subscriptions
that the offer can apply to matches. What a customer's periods say is gathered (and cached per
subscription and invoiced period) in ``segment_facts``; here the rules and their evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, select

from backend_stub.domain.catalogue import UNLIMITED, Catalogue
from backend_stub.domain.money import exact_to_ore
from backend_stub.domain.periods import Period, Subscription
from backend_stub.services.offers import recommend
from backend_stub.services.offers.segment_facts import (
    MAX_PERIODS,
    PeriodStats,
    SubscriberFacts,
    data_allowance,
    load_facts,
    tenure_months,
)
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import chunks
from selfcare_common.money_format import format_kr

# --------------------------------------------------------------------------- rules


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Window(_Rule):
    periods: int = Field(1, ge=1, le=MAX_PERIODS)
    of_last: int = Field(3, ge=1, le=MAX_PERIODS)

    @model_validator(mode="after")
    def _within(self):
        if self.periods > self.of_last:
            raise ValueError(f"periods ({self.periods}) must not exceed of_last ({self.of_last})")
        return self


class DataUsageRule(_Window):
    min_percent: int = Field(90, ge=0, le=1000)


class OverageRule(_Window):
    min_ore: int = Field(1, ge=0)


class RoamingRule(_Window):
    pass


class TenureRule(_Rule):
    min: int | None = Field(None, ge=0, le=1200)
    max: int | None = Field(None, ge=0, le=1200)

    @model_validator(mode="after")
    def _order(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class Rules(_Rule):
    plans: list[str] | None = None
    data_usage: DataUsageRule | None = None
    overage: OverageRule | None = None
    roaming: RoamingRule | None = None
    tenure_months: TenureRule | None = None
    data_alert: bool = False  # the subscription reached 80 % of its data this period (a usage alert, docs/alerts.md)
    exclude_overdue: bool = True
    exclude_collection: bool = True
    recommended: bool = False

    def periods_needed(self) -> int:
        windows = [r.of_last for r in (self.data_usage, self.overage, self.roaming) if r is not None]
        return max(windows, default=0)


class RuleError(ValueError):
    """Invalid input; ``errors`` are ``(location, message)`` pairs, the location naming the field."""

    def __init__(self, errors: list[tuple[tuple[str | int, ...], str]]):
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in errors))


def pydantic_errors(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    out = []
    for e in exc.errors():
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
        out.append(((*prefix, *e["loc"]), msg))
    return out


def parse_rules(raw: Any, catalogue: Catalogue, *, prefix: tuple[str | int, ...] = ("rules",)) -> Rules:
    """Validate segment rules; ``RuleError`` names every bad field (``rules.data_usage.periods``)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RuleError([(prefix, "must be an object")])
    try:
        rules = Rules.model_validate(raw)
    except ValidationError as exc:
        raise RuleError(pydantic_errors(exc, prefix)) from None
    errors = []
    for i, plan_id in enumerate(rules.plans or []):
        if plan_id not in catalogue.plans:
            errors.append(((*prefix, "plans", i), f"unknown plan {plan_id!r}"))
    if rules.plans is not None and not rules.plans:
        errors.append(((*prefix, "plans"), "name at least one plan, or leave the rule out"))
    if errors:
        raise RuleError(errors)
    return rules


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Sells:
    kind: str  # plan, addon
    id: str


@dataclass
class Match:
    matches: bool
    subscription: Subscription | None  # the one that matches (or, when none does, the first one it applies to)
    reasons: list[str]


RecommendFn = Callable[[Subscription], dict[str, Any]]


def applies_to(catalogue: Catalogue, sells: Sells | None, sub: Subscription, today: date) -> bool:
    """Whether what the offer sells can be bought for ``sub`` now (right kind of plan, not already held)."""
    seg = sub.segment_on(today)
    if seg is None:
        return False
    if sells is None:
        return True
    current = catalogue.plans.get(seg.plan_id)
    if current is None:
        return False
    if sells.kind == "plan":
        new = catalogue.plans.get(sells.id)
        later = any(s.start > today for s in sub.segments)  # a change is already booked
        return new is not None and new.kind == current.kind and new.id != current.id and not later
    addon = catalogue.addons.get(sells.id)
    return addon is not None and current.kind == "mobile" and (not addon.plans or current.id in addon.plans)


# The reasons marketing reads in the preview, in the console's languages.
REASONS: dict[str, dict[str, str]] = {
    "en": {
        "not_met": "not met: {text}",
        "plan": "plan {plan} (wanted: {plans})",
        "window": "in {hits} of {of} periods",
        "needs": " (needs {need})",
        "data": "data ≥ {percent} % {window}",
        "overage": "overage ≥ {amount} {window}",
        "roaming": "roaming {window}",
        "data_alert": "reached 80 % of the data this period",
        "no_recommendation": "no recommendation available",
        "instead": "{name}: {offered} instead of {current} over {periods} periods",
        "not_comparable": "{plan} is not comparable with the current plan",
        "recommended": "recommended: {text}",
        "recommended_plan": "recommended plan: {plan}",
        "none_better": "none better",
        "not_checked": "recommended: not checked (other rules fail)",
        "tenure": "tenure {months} months (wanted {low}–{high})",
        "any": "any",
        "no_overdue": "no overdue invoice",
        "no_collection": "not in collection",
        "no_subscription": "no subscription that {what} applies to",
        "an_offer": "an offer",
        "plan_kind": "plan {id}",
        "addon_kind": "add-on {id}",
        "rules_stale": "the rules name plans no longer in the catalogue",
    },
    "sv": {
        "not_met": "uppfylls inte: {text}",
        "plan": "abonnemang {plan} (önskas: {plans})",
        "window": "i {hits} av {of} perioder",
        "needs": " (kräver {need})",
        "data": "data ≥ {percent} % {window}",
        "overage": "överförbrukning ≥ {amount} {window}",
        "roaming": "roaming {window}",
        "data_alert": "har använt 80 % av surfen den här perioden",
        "no_recommendation": "ingen rekommendation tillgänglig",
        "instead": "{name}: {offered} i stället för {current} under {periods} perioder",
        "not_comparable": "{plan} går inte att jämföra med nuvarande abonnemang",
        "recommended": "rekommenderas: {text}",
        "recommended_plan": "rekommenderat abonnemang: {plan}",
        "none_better": "inget bättre",
        "not_checked": "rekommenderas: inte prövat (andra villkor uppfylls inte)",
        "tenure": "kundtid {months} månader (önskas {low}–{high})",
        "any": "obegränsat",
        "no_overdue": "ingen förfallen faktura",
        "no_collection": "inte hos inkasso",
        "no_subscription": "inget abonnemang som {what} gäller för",
        "an_offer": "erbjudandet",
        "plan_kind": "abonnemanget {id}",
        "addon_kind": "tillägget {id}",
        "rules_stale": "villkoren nämner abonnemang som inte längre finns i katalogen",
    },
}


def say(lang: str, key: str, **params: Any) -> str:
    """A reason in ``lang`` (English for any other)."""
    return REASONS.get(lang, REASONS["en"])[key].format(**params)


def _count(periods: list[Period], test: Callable[[Period], bool]) -> int:
    return sum(1 for p in periods if test(p))


def _window_text(hits: int, of: int, need: int, ok: bool, lang: str = "en") -> str:
    return say(lang, "window", hits=hits, of=of) + ("" if ok else say(lang, "needs", need=need))


def subscription_rules(
    catalogue: Catalogue,
    rules: Rules,
    sells: Sells | None,
    facts: SubscriberFacts,
    sub: Subscription,
    today: date,
    recommend_fn: RecommendFn | None,
    lang: str = "en",
) -> tuple[bool, list[str]]:
    """The subscription-level rules for one subscription: (all hold, one reason per rule)."""
    ok = True
    reasons: list[str] = []
    seg = sub.segment_on(today)
    plan_id = seg.plan_id if seg else None

    def note(holds: bool, text: str) -> None:
        nonlocal ok
        ok = ok and holds
        reasons.append(text if holds else say(lang, "not_met", text=text))

    if rules.plans is not None:
        note(plan_id in rules.plans, say(lang, "plan", plan=plan_id, plans=", ".join(rules.plans)))
    if rules.data_usage is not None:
        note(*_data_usage_rule(catalogue, rules.data_usage, facts, sub, lang))
    if rules.overage is not None:
        note(*_overage_rule(rules.overage, facts, sub, lang))
    if rules.roaming is not None:
        note(*_roaming_rule(rules.roaming, facts, sub, lang))
    if rules.data_alert:
        note(sub.id in facts.data_alerted, say(lang, "data_alert"))
    if rules.recommended and ok:  # the costly one last, and only when the rest hold
        note(*_recommended_rule(sells, recommend_fn(sub) if recommend_fn else None, lang))
    elif rules.recommended:
        reasons.append(say(lang, "not_checked"))
    return ok, reasons


def _stats(facts: SubscriberFacts, sub: Subscription, p: Period) -> PeriodStats:
    return facts.stats.get((sub.id, p.start), PeriodStats())


def _data_usage_rule(
    catalogue: Catalogue, r: DataUsageRule, facts: SubscriberFacts, sub: Subscription, lang: str
) -> tuple[bool, str]:
    """Data used ≥ ``min_percent`` % of the period's (prorated) allowance in enough of the last periods;
    an unlimited allowance is never used up, a zero one is by any use."""
    last = facts.periods[: r.of_last]

    def heavy(p: Period) -> bool:
        used = _stats(facts, sub, p).data_bytes
        allowance = data_allowance(catalogue, sub, p)
        if allowance == UNLIMITED:
            return False
        if allowance == 0:
            return used > 0
        return used * 100 >= r.min_percent * allowance

    hits = _count(last, heavy)
    holds = hits >= r.periods
    window = _window_text(hits, len(last), r.periods, holds, lang)
    return holds, say(lang, "data", percent=r.min_percent, window=window)


def _overage_rule(r: OverageRule, facts: SubscriberFacts, sub: Subscription, lang: str) -> tuple[bool, str]:
    """Usage charged beyond an allowance (and the fair-use surcharge) ≥ ``min_ore`` (at least 1 öre) in
    enough of the last periods."""
    last = facts.periods[: r.of_last]
    least = max(r.min_ore, 1)
    hits = _count(last, lambda p: exact_to_ore(_stats(facts, sub, p).overage_exact) >= least)
    holds = hits >= r.periods
    window = _window_text(hits, len(last), r.periods, holds, lang)
    return holds, say(lang, "overage", amount=format_kr(least, lang), window=window)


def _roaming_rule(r: RoamingRule, facts: SubscriberFacts, sub: Subscription, lang: str) -> tuple[bool, str]:
    """Any roaming event in enough of the last periods."""
    last = facts.periods[: r.of_last]
    hits = _count(last, lambda p: _stats(facts, sub, p).roaming_events > 0)
    holds = hits >= r.periods
    return holds, say(lang, "roaming", window=_window_text(hits, len(last), r.periods, holds, lang))


def _recommended_rule(sells: Sells | None, rec: dict[str, Any] | None, lang: str) -> tuple[bool, str]:
    """Re-rating the last periods shows the plan sold would have served better; with no plan sold,
    that some plan would."""
    if rec is None:
        return False, say(lang, "no_recommendation")
    if sells is not None and sells.kind == "plan":
        current = next((p for p in rec["plans"] if p["current"]), None)
        offered = next((p for p in rec["plans"] if p["plan_id"] == sells.id), None)
        better = recommend.is_better(rec, sells.id)
        if current and offered:
            text = say(
                lang,
                "instead",
                name=offered["name"],
                offered=format_kr(offered["total_ore"], lang),
                current=format_kr(current["total_ore"], lang),
                periods=len(rec["periods"]),
            )
        else:
            text = say(lang, "not_comparable", plan=sells.id)
        return better, say(lang, "recommended", text=text)
    best = rec.get("best_plan_id")
    return best is not None, say(lang, "recommended_plan", plan=best or say(lang, "none_better"))


def customer_rules(rules: Rules, facts: SubscriberFacts, today: date, lang: str = "en") -> tuple[bool, list[str]]:
    ok = True
    reasons: list[str] = []

    def note(holds: bool, text: str) -> None:
        nonlocal ok
        ok = ok and holds
        reasons.append(text if holds else say(lang, "not_met", text=text))

    if rules.tenure_months is not None:
        months = tenure_months(facts.first_start, today)
        lo, hi = rules.tenure_months.min, rules.tenure_months.max
        holds = (lo is None or months >= lo) and (hi is None or months <= hi)
        note(
            holds,
            say(
                lang,
                "tenure",
                months=months,
                low=lo if lo is not None else 0,
                high=hi if hi is not None else say(lang, "any"),
            ),
        )
    if rules.exclude_overdue:
        note(not facts.overdue, say(lang, "no_overdue"))
    if rules.exclude_collection:
        note(not facts.collection, say(lang, "no_collection"))
    return ok, reasons


def match(
    catalogue: Catalogue,
    rules: Rules,
    sells: Sells | None,
    facts: SubscriberFacts,
    today: date,
    recommend_fn: RecommendFn | None = None,
    *,
    subscription_id: int | None = None,
    lang: str = "en",
) -> Match:
    """Whether the customer (or their subscription ``subscription_id``) matches; reasons for marketing."""
    ok_customer, customer_reasons = customer_rules(rules, facts, today, lang)
    candidates = [
        s
        for s in sorted(facts.subscriptions, key=lambda s: s.id)
        if (subscription_id is None or s.id == subscription_id) and applies_to(catalogue, sells, s, today)
    ]
    if not candidates:
        what = say(lang, f"{sells.kind}_kind", id=sells.id) if sells else say(lang, "an_offer")
        return Match(
            False, None, [*customer_reasons, say(lang, "not_met", text=say(lang, "no_subscription", what=what))]
        )
    first: tuple[Subscription, list[str]] | None = None
    for sub in candidates:
        ok_sub, reasons = subscription_rules(
            catalogue, rules, sells, facts, sub, today, recommend_fn if ok_customer else None, lang
        )
        label = sub.msisdn or sub.number
        reasons = [*customer_reasons, *(f"{label}: {r}" for r in reasons)]
        if ok_customer and ok_sub:
            return Match(True, sub, reasons)
        if first is None:
            first = (sub, reasons)
    assert first is not None
    return Match(False, first[0], first[1])


def recommend_fn_for(conn: Connection, catalogue: Catalogue, facts: SubscriberFacts, today: date) -> RecommendFn:
    periods = sorted(facts.periods[: recommend.PERIODS])
    cache: dict[int, dict[str, Any]] = {}

    def fn(sub: Subscription) -> dict[str, Any]:
        if sub.id not in cache:
            cache[sub.id] = recommend.recommendation(conn, catalogue, sub, today, periods=periods)
        return cache[sub.id]

    return fn


def preview(
    conn: Connection, catalogue: Catalogue, rules: Rules, sells: Sells | None, today: date, *, sample_size: int = 10
) -> dict[str, Any]:
    """How many subscribers (customers with an active subscription) match now, and a sample of them."""
    active = sorted(
        set(
            conn.execute(
                select(m.Subscription.customer_id)
                .join(m.PlanSegment, m.PlanSegment.subscription_id == m.Subscription.id)
                .where(
                    m.PlanSegment.start_date <= today,
                    (m.PlanSegment.end_date.is_(None)) | (m.PlanSegment.end_date >= today),
                )
            ).scalars()
        )
    )
    matching = 0
    sample: list[dict[str, Any]] = []
    for part in chunks(active, 500):
        facts = load_facts(conn, catalogue, part, today, periods_needed=rules.periods_needed())
        for f in sorted(facts.values(), key=lambda f: f.customer_number):
            result = match(catalogue, rules, sells, f, today, recommend_fn_for(conn, catalogue, f, today))
            if result.matches:
                matching += 1
                if len(sample) < sample_size:
                    sample.append({"customer_number": f.customer_number, "name": f.name})
    return {"matching": matching, "total": len(active), "sample": sample}
