"""Accepting an offer: the order sheet (what the next invoice will carry), the yes (a plan change with its
discount, or an add-on bought through the shop), the note on the timeline and the confirmation.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import Catalogue, in_language
from backend_stub.domain.errors import Conflict, NotFound
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.texts import day, render
from backend_stub.services.billing import subscriptions
from backend_stub.services.billing.billrun_batch import grant_of_row
from backend_stub.services.charges.addons import buy_addon
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.services.lifecycle.messaging import address_line
from backend_stub.services.offers.banners import (
    Context,
    accepted_offer_ids,
    context,
    fill_figures,
    recommendation_figures,
    targeted,
)
from backend_stub.services.offers.marketing import (
    discount_name,
    grant_terms,
    offer_terms,
    today_of,
)
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import OfferAcceptance

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- order sheet and accepting


def effective_date(ctx: Context, row: Any) -> date:
    if row.effective == "next_period":
        return subscriptions.next_period_start(ctx.conn, ctx.customer_id, ctx.today)
    return ctx.today


def what_you_get(catalogue: Catalogue, kind: str, item_id: str, lang: str) -> list[str]:
    """The order sheet's list of what the subscriber gets (from the catalogue)."""
    en = lang == "en"
    if kind == "addon":
        addon = catalogue.addons[item_id]
        return [
            f"{a.label} {'data' if en else 'surf'}" if pool == "data" else a.label
            for pool, a in addon.allowances.items()
        ] + [in_language(addon, lang)]
    plan = catalogue.plans[item_id]
    if plan.kind != "mobile":
        name, description = in_language(plan, lang), in_language(plan, lang, "description")
        return [name, description] if description else [name]
    out = []
    data = plan.allowances.get("data")
    if data is not None:
        out.append(
            ("Unlimited data" if en else "Obegränsad surf")
            if data.unlimited
            else f"{data.label} {'data' if en else 'surf'}"
        )
    voice, sms = plan.allowances.get("voice"), plan.allowances.get("sms")
    if voice is not None and sms is not None and voice.unlimited and sms.unlimited:
        out.append("Free calls and texts" if en else "Fria samtal och sms")
    else:
        if voice is not None:
            out.append(
                ("Free calls" if en else "Fria samtal")
                if voice.unlimited
                else f"{voice.label} {'calls' if en else 'samtal'}"
            )
        if sms is not None:
            out.append(("Free texts" if en else "Fria sms") if sms.unlimited else f"{sms.amount} sms")
    out.append("EU roaming like at home" if en else "Surfa och ring i EU som hemma")
    return out


def _grants_of(conn: Connection, subscription_id: int) -> list[invoicing.DiscountGrant]:
    return [
        grant_of_row(g)
        for g in conn.execute(select(m.DiscountGrant).where(m.DiscountGrant.subscription_id == subscription_id))
    ]


def _cycle_day(conn: Connection, customer_id: int) -> int:
    return conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar() or 1


def _plan_lines(ctx: Context, row: Any, sub: Subscription, effective: date) -> tuple[Period, list[invoicing.Line]]:
    """The fee and discount lines of this subscription on the invoice of the period the change falls in."""
    changed = subscriptions.check_change(ctx.conn, ctx.catalogue, sub, row.sells_id, effective)
    period = period_containing(effective, _cycle_day(ctx.conn, ctx.customer_id))
    grants = _grants_of(ctx.conn, sub.id)
    terms = grant_terms(row)
    if terms is not None:
        grants.append(invoicing.DiscountGrant(terms.id, period.label, sub.id, terms, row.sells_id))
    fees = invoicing.fee_lines(ctx.catalogue, changed, period)
    discounts = [
        d for d in invoicing.discount_lines(ctx.catalogue, grants, period, fees) if d.subscription_id == sub.id
    ]
    return period, fees + discounts


def _plan_on(sub: Subscription, today: date) -> str:
    """The plan ``sub`` has on ``today``: a subscription an offer is targeted at has one (``applies_to``)."""
    seg = sub.segment_on(today)
    assert seg is not None, "a targeted subscription has a plan today"
    return seg.plan_id


def order_sheet(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    offer_id: int,
    subscription_id: int | None,
    *,
    lang: str = "sv",
    now: datetime | None = None,
) -> dict[str, Any]:
    """What accepting would do, in figures: the lines the next invoice will carry for this subscription."""
    now = now or clock.now()
    with engine.begin() as conn:
        ctx = context(conn, catalogue, customer_id, now)
        if offer_id in accepted_offer_ids(conn, customer_id):
            raise NotFound("offer not found")
        row, result = targeted(ctx, offer_id, subscription_id)
        sub = result.subscription
        assert sub is not None
        current_plan = catalogue.plans[_plan_on(sub, ctx.today)]
        current = {
            "kind": "plan",
            "id": current_plan.id,
            "name": in_language(current_plan, lang),
            "monthly_fee_ore": current_plan.monthly_fee_ore,
        }
        texts = row.terms_text_en if lang == "en" else row.terms_text_sv
        out: dict[str, Any] = {
            "offer_id": row.id,
            "subscription_id": sub.id,
            "msisdn": sub.msisdn,
            "title": fill_figures(row.title, recommendation_figures(ctx, row, sub, lang), lang),
            "what_you_get": what_you_get(catalogue, row.sells_kind, row.sells_id, lang),
            "terms_text": texts,
            "current": current,
        }
        if row.sells_kind == "addon":
            out.update(_addon_sheet(ctx, row, current_plan.monthly_fee_ore, lang))
        else:
            out.update(_plan_sheet(ctx, row, sub, lang))
        return out


def _addon_sheet(ctx: Context, row: Any, monthly_fee_ore: int, lang: str) -> dict[str, Any]:
    """An add-on: bought today, on this period's invoice; the monthly fee stays."""
    addon = ctx.catalogue.addons[row.sells_id]
    period = period_containing(ctx.today, _cycle_day(ctx.conn, ctx.customer_id))
    line = {"description": in_language(addon, lang), "amount_ore": addon.price_ore}
    return {
        "new": {
            "kind": "addon",
            "id": addon.id,
            "name": in_language(addon, lang),
            "price_ore": addon.price_ore,
        },
        "effective_date": ctx.today.isoformat(),
        "this_period": {"period": period.label, "lines": [line], "total_ore": addon.price_ore},
        "monthly_after_discount_ore": monthly_fee_ore,
    }


def _plan_sheet(ctx: Context, row: Any, sub: Subscription, lang: str) -> dict[str, Any]:
    """A plan change: from its effective date, with the fee and discount lines of that period's invoice."""
    effective = effective_date(ctx, row)
    try:
        period, lines = _plan_lines(ctx, row, sub, effective)
    except subscriptions.PlanChangeError:
        raise NotFound("offer not found") from None
    new_plan = ctx.catalogue.plans[row.sells_id]
    return {
        "new": {
            "kind": "plan",
            "id": new_plan.id,
            "name": in_language(new_plan, lang),
            "monthly_fee_ore": new_plan.monthly_fee_ore,
        },
        "effective_date": effective.isoformat(),
        "this_period": {
            "period": period.label,
            "lines": [
                {
                    "description": (ln.description_en or ln.description) if lang == "en" else ln.description,
                    "amount_ore": ln.amount_ore,
                }
                for ln in lines
            ],
            "total_ore": sum(ln.amount_ore for ln in lines),
        },
        "monthly_after_discount_ore": new_plan.monthly_fee_ore,
    }


def accept_offer(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    offer_id: int,
    subscription_id: int,
    *,
    actor: str,
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> dict[str, Any]:
    """Say yes to an offer: change the plan (or buy the add-on), grant the terms, note it, confirm it.

    ``NotFound`` when the offer is not for this customer's subscription now, ``Conflict`` when it
    was accepted already. An add-on is bought through the add-on shop (``services.charges.addons.buy_addon``),
    which confirms the purchase to the subscriber itself.
    """
    now = now or clock.now()
    with engine.begin() as conn:
        _refuse_accepted_for(conn, customer_id, offer_id, subscription_id)
        ctx = context(conn, catalogue, customer_id, now)
        row, result = targeted(ctx, offer_id, subscription_id)
        if offer_id in accepted_offer_ids(conn, customer_id):
            raise Conflict("the offer is already accepted")
        sub = result.subscription
        assert sub is not None
    if row.sells_kind == "addon":
        return _accept_addon(engine, catalogue, row, sub, actor=actor, now=now, mail=mail, sms=sms)
    try:
        with engine.begin() as conn:
            ctx = context(conn, catalogue, customer_id, now)
            row, result = targeted(ctx, offer_id, subscription_id)  # again, inside the writing transaction
            sub = result.subscription
            assert sub is not None
            effective = effective_date(ctx, row)
            old_plan = catalogue.plans[_plan_on(sub, ctx.today)]
            new_plan = catalogue.plans[row.sells_id]
            acceptance_id = conn.execute(
                insert(OfferAcceptance)
                .values(
                    offer_id=offer_id,
                    customer_id=customer_id,
                    subscription_id=sub.id,
                    old_plan_id=old_plan.id,
                    plan_id=new_plan.id,
                    addon_id=None,
                    effective_date=effective,
                    extra_monthly_ore=new_plan.monthly_fee_ore - old_plan.monthly_fee_ore,
                    grant_id=None,
                    actor=actor[:64],
                    accepted_at=now,
                )
                .returning(OfferAcceptance.id)
            ).scalar_one()
            subscriptions.change_plan(conn, catalogue, sub.id, new_plan.id, effective)
            _grant_offer_terms(conn, row, customer_id, sub, new_plan.id, effective, acceptance_id)
            data = _plan_change_note(row, acceptance_id, sub, old_plan, new_plan, effective)
            invoice_id = _note_on_timeline(conn, customer_id, data, actor, now)
    except IntegrityError:
        raise Conflict("the offer is already accepted for this subscription") from None
    except subscriptions.PlanChangeError:
        raise NotFound("offer not found") from None
    _confirm(engine, customer_id, data, invoice_id, mail=mail, sms=sms)
    return {
        "acceptance_id": acceptance_id,
        "effective_date": effective.isoformat(),
        "subscription_id": sub.id,
        "plan_id": new_plan.id,
    }


def _plan_change_note(
    row: Any, acceptance_id: int, sub: Subscription, old_plan: Any, new_plan: Any, effective: date
) -> dict[str, Any]:
    """What the timeline entry and the confirmation of a plan change say."""
    return {
        "offer_id": row.id,
        "acceptance_id": acceptance_id,
        "msisdn": sub.msisdn or sub.number,
        "old_plan": old_plan.name,
        "new_plan": new_plan.name,
        "effective_date": effective.isoformat(),
        "old_plan_en": in_language(old_plan, "en"),
        "new_plan_en": in_language(new_plan, "en"),
        "terms_sv": row.terms_text_sv,
        "terms_en": row.terms_text_en,
    }


def _refuse_accepted_for(conn: Connection, customer_id: int, offer_id: int, subscription_id: int) -> None:
    """``Conflict`` when the customer's subscription has accepted the offer already (another customer's
    subscription id is left to targeting, which does not find it)."""
    if conn.execute(
        select(OfferAcceptance.id).where(
            OfferAcceptance.offer_id == offer_id, OfferAcceptance.subscription_id == subscription_id
        )
    ).first():
        owner = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)).scalar()
        if owner == customer_id:
            raise Conflict("the offer is already accepted for this subscription")


def _grant_offer_terms(
    conn: Connection,
    row: Any,
    customer_id: int,
    sub: Subscription,
    plan_id: str,
    effective: date,
    acceptance_id: int,
) -> None:
    """The offer's price terms as a discount grant on the new plan's fee from the period of the change,
    kept on the acceptance."""
    terms = offer_terms(row)
    if terms is None:
        return
    period = period_containing(effective, _cycle_day(conn, customer_id))
    grant_id = conn.execute(
        insert(m.DiscountGrant)
        .values(
            customer_id=customer_id,
            subscription_id=sub.id,
            discount_id=f"offer-{row.id}",
            start_period=period.label,
            name=discount_name(terms),
            percent=None if terms.percent is None else format(terms.percent.normalize(), "f"),
            amount_ore=terms.amount_ore,
            applies_to="plan_fee",
            periods=terms.periods,
            plan_id=plan_id,
            source=f"offer:{row.id}",
        )
        .returning(m.DiscountGrant.id)
    ).scalar_one()
    conn.execute(update(OfferAcceptance).where(OfferAcceptance.id == acceptance_id).values(grant_id=grant_id))


def _accept_addon(
    engine: Engine,
    catalogue: Catalogue,
    row: Any,
    sub: Subscription,
    *,
    actor: str,
    now: datetime,
    mail: messaging.MailSettings | None,
    sms: messaging.SmsProvider | None,
) -> dict[str, Any]:
    addon = catalogue.addons[row.sells_id]
    today = today_of(now)
    try:
        with engine.begin() as conn:  # the acceptance first: a second tap cannot buy twice
            acceptance_id = conn.execute(
                insert(OfferAcceptance)
                .values(
                    offer_id=row.id,
                    customer_id=sub.customer_id,
                    subscription_id=sub.id,
                    old_plan_id=_plan_on(sub, today),
                    plan_id=None,
                    addon_id=addon.id,
                    effective_date=today,
                    extra_monthly_ore=addon.price_ore,
                    grant_id=None,
                    actor=actor[:64],
                    accepted_at=now,
                )
                .returning(OfferAcceptance.id)
            ).scalar_one()
    except IntegrityError:
        raise Conflict("the offer is already accepted for this subscription") from None
    try:  # the add-on shop confirms the purchase to the subscriber itself
        buy_addon(engine, catalogue, sub.id, addon.id, source=f"offer:{row.id}", now=now, mail=mail, sms=sms)
    except Exception as exc:
        with engine.begin() as conn:
            conn.execute(delete(OfferAcceptance).where(OfferAcceptance.id == acceptance_id))
        if isinstance(exc, ValueError | NotFound):  # the shop refused: for this offer, a conflict
            raise Conflict(str(exc)) from None
        raise
    data = {
        "offer_id": row.id,
        "acceptance_id": acceptance_id,
        "msisdn": sub.msisdn or sub.number,
        "old_plan": None,
        "new_plan": addon.name,
        "effective_date": today.isoformat(),
        "new_plan_en": in_language(addon, "en"),
        "terms_sv": row.terms_text_sv,
        "terms_en": row.terms_text_en,
    }
    with engine.begin() as conn:
        _note_on_timeline(conn, sub.customer_id, data, actor, now)
    return {
        "acceptance_id": acceptance_id,
        "effective_date": today.isoformat(),
        "subscription_id": sub.id,
        "addon_id": addon.id,
    }


def _note_on_timeline(
    conn: Connection, customer_id: int, data: dict[str, Any], actor: str, now: datetime
) -> str | None:
    """An ``offer_accepted`` entry on the customer's latest invoice (None: no invoice yet)."""
    invoice_id = conn.execute(
        select(m.Invoice.id)
        .where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice")
        .order_by(m.Invoice.period_start.desc(), m.Invoice.number.desc())
        .limit(1)
    ).scalar()
    if invoice_id is not None:
        ledger.add_event(
            conn,
            invoice_id,
            "offer_accepted",
            render("offer_accepted", data, "sv", "Erbjudande antaget."),
            actor=actor[:64],
            data=data,
            at=now,
        )
    return invoice_id


def confirmation_texts(data: dict[str, Any], name: str, seller: str, lang: str) -> tuple[str, str, str]:
    """Subject, e-mail text and SMS text of the confirmation."""
    when = day(data["effective_date"], lang)
    terms = data["terms_en"] if lang == "en" else data["terms_sv"]
    if lang == "en":
        old, new = data.get("old_plan_en") or data.get("old_plan"), data.get("new_plan_en") or data["new_plan"]
        if data.get("old_plan"):
            what = f"{data['msisdn']} changes from {old} to {new} on {when}"
        else:
            what = f"{new} is added to {data['msisdn']} from {when}"
        subject = f"Your order: {new}"
        text = (
            f"Hello {name},\n\nThank you for your order. {what}. Price: {terms}.\n"
            f"Your next invoice shows the change.\n\nKind regards, {seller}\n"
        )
        return subject, text, f"{seller}: {what}. {terms}."
    if data.get("old_plan"):
        what = f"{data['msisdn']} byter från {data['old_plan']} till {data['new_plan']} den {when}"
    else:
        what = f"{data['new_plan']} läggs till på {data['msisdn']} från {when}"
    subject = f"Din beställning: {data['new_plan']}"
    text = (
        f"Hej {name}!\n\nTack för din beställning. {what}. Pris: {terms}.\n"
        f"Ändringen syns på din nästa faktura.\n\nVänliga hälsningar, {seller}\n"
    )
    return subject, text, f"{seller}: {what}. {terms}."


def _confirm(
    engine: Engine,
    customer_id: int,
    data: dict[str, Any],
    invoice_id: str | None,
    *,
    mail: messaging.MailSettings | None,
    sms: messaging.SmsProvider | None,
) -> str | None:
    """The confirmation by the customer's channel, once per acceptance; a failure leaves it in the outbox."""
    with engine.connect() as conn:
        customer = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).one()
        seller = (
            conn.execute(select(m.Invoice.document).where(m.Invoice.id == invoice_id)).scalar() if invoice_id else None
        )
    seller_name = (seller or {}).get("seller", {}).get("name") or "Nordvik Telecom AB"
    lang = "en" if customer.language == "en" else "sv"
    subject, text, short = confirmation_texts(data, customer.name, seller_name, lang)
    channel = messaging.channel_of(customer)
    key = f"offer-accept:{data['acceptance_id']}:{channel}"
    try:
        if channel == "email":
            messaging.send_email(
                engine,
                mail or messaging.MailSettings.from_env(),
                to=customer.email,
                subject=subject,
                text=text,
                key=key,
                invoice_id=invoice_id,
            )
        elif channel == "sms":
            messaging.send_sms(
                engine,
                sms or messaging.OutboxSmsProvider(),
                to=customer.phone,
                text=short,
                key=key,
                invoice_id=invoice_id,
            )
        else:
            messaging.record_letter(
                engine, to=address_line(customer), subject=subject, text=text, key=key, invoice_id=invoice_id
            )
    except (OSError, smtplib.SMTPException, ValueError):
        log.exception("offer confirmation %s not sent; it stays in the outbox", key)
        return None
    return channel
