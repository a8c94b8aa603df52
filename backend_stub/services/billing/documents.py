"""The issued invoice as a document: every field the law and the subscriber need, frozen.

The document is stored with the invoice when it is issued and never changes; the API's
JSON, the PDF and the app's page are all read from it (plus the live balance and status).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from backend_stub.domain.catalogue import Catalogue, allowance_label, in_language
from backend_stub.domain.invoicing import IdentityCache, InvoiceDraft, unit_in
from backend_stub.domain.periods import Subscription
from backend_stub.domain.rating import prorated_units


def seller_of(catalogue: Catalogue) -> dict[str, Any]:
    op = catalogue.operator
    seller = _CACHE.get(op, "seller", lambda: _seller(op))
    return {**seller, "address": list(op.address)}  # a dict (and address) of its own for every document


def _seller(op: Any) -> dict[str, Any]:
    return {
        "name": op.name,
        "org_number": op.org_number,
        "vat_number": op.vat_number,
        "address": list(op.address),
        "bankgiro": op.bankgiro,
        "support_email": op.support_email,
        "support_phone": op.support_phone,
        "website": op.website,
        "disputes": op.disputes,
        "late_interest_note": op.late_interest_note,
        "disputes_en": in_language(op, "en", "disputes"),
        "late_interest_note_en": in_language(op, "en", "late_interest_note"),
        "f_tax_approved": True,
    }


def buyer_of(customer: Any) -> dict[str, Any]:
    return {
        "name": customer.name,
        "customer_number": customer.customer_number,
        "address": {"street": customer.street, "postal_code": customer.postal_code, "city": customer.city},
        "email": customer.email,
        "phone": customer.phone,
    }


def _plans(catalogue: Catalogue, subs: list[Subscription], draft: InvoiceDraft) -> list[dict[str, Any]]:
    out = []
    period = draft.period
    period_days = period.days
    for sub in sorted(subs, key=lambda s: s.number):
        for seg, days in sub.segments_in(period):
            plan = catalogue.plans.get(seg.plan_id)
            if plan is None:
                continue
            full = days >= period_days
            texts = _CACHE.get(
                plan,
                ("plan_texts", period_days if full else days, period_days),
                lambda plan=plan, days=days, full=full: _plan_texts(plan, days, period_days, full),
            )
            out.append(
                {
                    "subscription": sub.number,
                    "msisdn": sub.msisdn,
                    "plan_id": plan.id,
                    "plan_name": plan.name,
                    "monthly_fee_ore": plan.monthly_fee_ore,
                    "allowances": texts[0],
                    "description": plan.description,
                    "plan_name_en": texts[1],
                    "allowances_en": texts[2],
                    "description_en": texts[3],
                    "from": max(seg.start, period.start).isoformat(),
                    "to": (period.end if seg.end is None else min(seg.end, period.end)).isoformat(),
                }
            )
    return out


_CACHE = IdentityCache()  # the seller and the plans' texts: the same for every invoice of a bill run


def _plan_texts(plan: Any, days: int, period_days: int, full: bool) -> tuple[str, str, str, str]:
    """A plan's allowances in Swedish and English for ``days`` of a period (prorated, rules §4), with its
    English name and description: (allowances, plan_name_en, allowances_en, description_en)."""
    names = {"data": "surf", "voice": "samtal", "sms": "sms", "mms": "mms"}
    parts, parts_en = [], []
    for pool, a in plan.allowances.items():
        # part of the period: the prorated allowance (base units, rules §4), e.g. "2,5 GB"
        label = a.label if full else allowance_label(pool, prorated_units(a.amount, days, period_days))
        parts.append(f"{label} {names.get(pool, pool)}")
        parts_en.append(f"{_label_en(label)} {_POOLS_EN.get(pool, pool)}")
    return (
        ", ".join(parts) or plan.description,
        in_language(plan, "en"),
        ", ".join(parts_en) or in_language(plan, "en", "description"),
        in_language(plan, "en", "description"),
    )


_POOLS_EN = {"data": "data", "voice": "calls", "sms": "texts", "mms": "MMS"}


def _label_en(label: str) -> str:
    """An allowance label in English: ``obegränsat`` → ``unlimited``, ``100 st`` → ``100``,
    ``2,5 GB`` → ``2.5 GB``."""
    return "unlimited" if label == "obegränsat" else label.removesuffix(" st").replace(",", ".")


# Texts of the document that come in both languages: the field, and its English twin.
_SELLER_TEXTS = ("disputes", "late_interest_note")
_PLAN_TEXTS = ("plan_name", "allowances", "description")


def localized(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """The document with its texts in ``lang``: line descriptions and units, plan names, the seller's
    policy texts. The Swedish texts are kept (``*_sv``) so that the result can be turned again.

    An invoice issued before it stored English texts has none: English then shows the Swedish
    text (an issued invoice never changes).
    """
    en = lang == "en"

    def pick(item: dict[str, Any], name: str) -> None:
        sv = item.get(f"{name}_sv", item.get(name))
        if sv is None:
            return
        item[f"{name}_sv"] = sv
        item[name] = (item.get(f"{name}_en") or sv) if en else sv

    out = dict(doc)
    lines = []
    for line in doc.get("lines") or []:
        line = dict(line)
        pick(line, "description")
        unit_sv = line["unit_sv"] if "unit_sv" in line else (line.get("unit") or "")
        line["unit_sv"] = unit_sv
        line["unit"] = unit_in(unit_sv, lang)
        lines.append(line)
    out["lines"] = lines
    if isinstance(doc.get("seller"), dict):
        seller = dict(doc["seller"])
        for name in _SELLER_TEXTS:
            pick(seller, name)
        out["seller"] = seller
    plans = []
    for plan in doc.get("plans") or []:
        plan = dict(plan)
        for name in _PLAN_TEXTS:
            pick(plan, name)
        plans.append(plan)
    out["plans"] = plans
    if doc.get("instalments"):
        out["instalments"] = [
            dict(i, device_name=i.get("device_name_en") or i.get("device_name")) if en else i
            for i in doc["instalments"]
        ]
    if doc.get("usage_totals"):
        out["usage_totals"] = localized_usage(doc["usage_totals"], lang)
    out["language"] = "en" if en else "sv"
    return out


def localized_usage(entries: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The usage summary's plan names in ``lang`` (``plan_name_en`` beside the Swedish one)."""
    out = []
    for entry in entries:
        entry = dict(entry)
        sv = entry.setdefault("plan_name_sv", entry.get("plan_name"))
        entry["plan_name"] = (entry.get("plan_name_en") or sv) if lang == "en" else sv
        out.append(entry)
    return out


def invoice_document(
    catalogue: Catalogue,
    customer: Any,
    subs: list[Subscription],
    issued: InvoiceDraft,
    *,
    credits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The frozen JSON document of an issued invoice or credit note (the CLI/API contract)."""
    vat_totals: dict[str, int] = defaultdict(int)
    for ln in issued.lines:
        vat_totals[str(ln.vat_rate)] += ln.amount_ore
    doc: dict[str, Any] = {
        "kind": issued.kind,
        "number": issued.number,
        "customer_number": customer.customer_number,
        "invoice_date": issued.invoice_date.isoformat() if issued.invoice_date else None,
        "due_date": issued.due_date.isoformat() if issued.due_date else None,
        "period": {
            "label": issued.period.label,
            "start": issued.period.start.isoformat(),
            "end": issued.period.end.isoformat(),
        },
        "ocr": issued.ocr,
        "currency": "SEK",
        "prices_include_vat": True,
        "seller": seller_of(catalogue),
        "buyer": buyer_of(customer),
        "lines": [ln.as_dict() for ln in issued.lines],
        "vat": [
            {"rate": str(v.rate), "net_ore": v.net_ore, "vat_ore": v.vat_ore, "gross_ore": v.gross_ore}
            for v in issued.vat
        ],
        "net_ore": issued.net_ore,
        "vat_ore": issued.vat_ore,
        "gross_ore": issued.gross_ore,
        "rounding_ore": issued.rounding_ore,
        "amount_due_ore": issued.amount_due_ore,
        "plans": _plans(catalogue, subs, issued) if issued.kind == "invoice" else [],
        "payment_terms_days": catalogue.operator.payment_terms_days,
    }
    if credits:
        doc.update(credits)
    if issued.meta.get("instalments"):  # devices on instalment: paid and left after this invoice
        doc["instalments"] = issued.meta["instalments"]
    assert sum(ln["amount_ore"] for ln in doc["lines"]) == doc["gross_ore"]
    assert all(Decimal(v["rate"]) >= 0 for v in doc["vat"])
    return doc
