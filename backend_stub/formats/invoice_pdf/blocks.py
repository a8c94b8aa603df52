"""The blocks of the invoice page, top to bottom: the head (seller, buyer, the invoice's facts), the payment
box (amount, OCR, Bankgiro, due date, the bank-app QR code), the link to the invoice's page, the plans and
usage, the specification, the totals with VAT per rate and öresavrundning, and the contacts.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import segno
from fpdf.enums import Align, XPos, YPos

from backend_stub.formats import invoice_qr
from backend_stub.formats.invoice_pdf.page import (
    ACCENT,
    ACCENT_LIGHT,
    COLS,
    HEAD_FILL,
    LINE_H,
    MUTED,
    ROW_PAD,
    RULE,
    TEXT,
    InvoicePDF,
    key_value_rows,
    section_title,
    simple_table,
    table_header,
)
from backend_stub.formats.invoice_pdf.text import LABELS, Formatter, format_msisdn, usage_sentence


def qr_png(text: str) -> bytes:
    """A QR code (error correction M) as PNG bytes, for the PDF."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=4, border=2)
    return buf.getvalue()


def draw_top(pdf: InvoicePDF, fmt: Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    seller, buyer = inv["seller"], inv["buyer"]
    is_credit = inv["kind"] == "credit_note"
    left_w = 92.0
    right_x = pdf.l_margin + 100.0
    right_w = pdf.w - pdf.r_margin - right_x

    # Seller "logo" area: wordmark and address.
    pdf.set_xy(pdf.l_margin, 16)
    pdf.style(19, bold=True, color=ACCENT)
    pdf.cell(left_w, 9, seller["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(8.5, color=MUTED)
    for line in seller.get("address", []):
        pdf.cell(left_w, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    contact = [seller[k] for k in ("website", "support_phone") if seller.get(k)]
    if contact:
        pdf.cell(left_w, 4, "  \u00b7  ".join(contact), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    seller_bottom = pdf.get_y()

    # Title and key facts.
    pdf.set_xy(right_x, 14)
    pdf.style(24, bold=True, color=TEXT)
    pdf.cell(right_w, 11, L["credit_note"] if is_credit else L["invoice"], align=Align.R)
    facts: list[tuple[str, str]] = [
        (L["credit_number"] if is_credit else L["number"], str(inv["number"])),
        (
            L["credit_date"] if is_credit else L["invoice_date"],
            fmt.date(inv["invoice_date"]),
        ),
    ]
    if not is_credit and inv.get("due_date"):
        facts.append((L["due_date"], fmt.date(inv["due_date"])))
    facts.append((L["customer_number"], str(inv["customer_number"])))
    if inv.get("period"):
        facts.append((L["period"], fmt.period(inv["period"]["start"], inv["period"]["end"])))
    if is_credit and inv.get("credits_invoice"):
        facts.append((L["credits_invoice"], str(inv["credits_invoice"])))
    if not is_credit and inv.get("ocr"):
        facts.append((L["ocr"], str(inv["ocr"])))
    facts_bottom = key_value_rows(pdf, right_x, 28, right_w, facts)

    # Buyer.
    y = max(seller_bottom + 10, 50.0)
    pdf.set_xy(pdf.l_margin, y)
    pdf.style(8, color=MUTED)
    pdf.cell(left_w, 4.5, L["bill_to"].upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(11, bold=True)
    pdf.cell(left_w, 5.5, buyer["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    addr = buyer.get("address") or {}
    pdf.style(10)
    if addr.get("street"):
        pdf.cell(left_w, 5, addr["street"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    city = " ".join(p for p in (addr.get("postal_code"), addr.get("city")) if p)
    if city:
        pdf.cell(left_w, 5, city, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(8.5, color=MUTED)
    buyer_no = buyer.get("customer_number") or inv["customer_number"]
    pdf.cell(
        left_w,
        5,
        f"{L['customer_number']} {buyer_no}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_y(max(pdf.get_y(), facts_bottom) + 7)


def _payment_qr_text(inv: Mapping[str, Any], left: int) -> str | None:
    """The bank-app code (UsingQR) for what is left to pay now; None when nothing is."""
    if inv["kind"] != "invoice" or left <= 0 or not inv.get("ocr") or not inv.get("due_date"):
        return None
    return invoice_qr.payload_text(invoice_qr.payload(dict(inv), amount_ore=left))


def draw_payment_box(pdf: InvoicePDF, fmt: Formatter) -> None:
    """How to pay, from the invoice's state when the dict has it (``balance_ore``, ``status``):
    a PDF downloaded later shows what is left to pay now, or that the invoice is paid."""
    inv, L = pdf.inv, pdf.L
    is_credit = inv["kind"] == "credit_note"
    due = int(inv["amount_due_ore"])
    st = inv.get("state") if isinstance(inv.get("state"), dict) else None  # backend_stub.domain.invoice_state
    if st is not None and not is_credit:
        left = int(st["to_pay_ore"])
        settled = due > 0 and not st["open"]
        amount = int(st["amount_ore"])
    else:
        left = int(inv["balance_ore"]) if "balance_ore" in inv and not is_credit else max(due, 0)
        settled = due > 0 and left <= 0
        amount = due
    qr_text = None
    if is_credit:
        cells, note = _credit_cells(inv, L, fmt, due)
    elif settled:
        cells, note = _settled_cells(inv, st or {}, L, fmt, amount, due)
    else:
        cells, note = _open_cells(inv, L, fmt, left, amount, due)
        if left > 0:
            qr_text = _payment_qr_text(inv, left)
    _draw_box(pdf, cells, note, qr_text)


Cells = list[tuple[str, str]]  # (label, value) side by side in the payment box, the first one large


def _credit_cells(inv: Mapping[str, Any], L: Mapping[str, Any], fmt: Formatter, due: int) -> tuple[Cells, str]:
    """A credit note: what was credited, on which invoice and when; nothing to pay."""
    cells = [(L["amount_credited"], fmt.money(due))]
    if inv.get("credits_invoice"):
        cells.append((L["credits_invoice"], str(inv["credits_invoice"])))
    cells.append((L["credit_date"], fmt.date(inv["invoice_date"])))
    note = L["credit_note_settle"].format(number=inv.get("credits_invoice") or "")
    if inv.get("credit_reason"):
        note = f"{L['credit_reason']}: {inv['credit_reason']}\n{note}"
    return cells, note


def _settled_cells(
    inv: Mapping[str, Any], st: Mapping[str, Any], L: Mapping[str, Any], fmt: Formatter, amount: int, due: int
) -> tuple[Cells, str]:
    """Settled since it was issued: paid (when, how), credited, moved to a later invoice or written off."""
    status = st.get("status") or inv.get("status")
    paid = st.get("paid")
    if status == "carried":
        label, note = (
            L["carried"].format(number=st["carried_to"]),
            L["carried_note"].format(number=st["carried_to"]),
        )
    elif status == "written_off":
        label, note = L["written_off"], L["written_off_note"]
    elif status == "credited":
        label, note = L["credited"], L["credited_note"]
    elif isinstance(paid, dict):
        label = L["paid_by"].get(paid["method"], L["paid_on"]).format(date=fmt.date(paid["on"]))
        note = L["paid_note"]
    else:
        label, note = L["paid"], L["paid_note"]
    cells = [
        (L["status"], label),
        (
            L["amount_due"] if status != "credited" else L["amount_credited"],
            fmt.money(amount if status != "credited" else due),
        ),
        (L["ocr"], str(inv.get("ocr") or "")),
    ]
    return cells, note


def _open_cells(
    inv: Mapping[str, Any], L: Mapping[str, Any], fmt: Formatter, left: int, amount: int, due: int
) -> tuple[Cells, str]:
    """Still open: what is left to pay, by when, with which OCR number to which Bankgiro."""
    shown = max(left, 0)
    partly = left != amount and left > 0
    cells = [
        (L["left_to_pay"] if partly else L["amount_due"], fmt.money(shown)),
        (L["due_date"], fmt.date(inv["due_date"])),
        (L["ocr"], str(inv.get("ocr") or "")),
        (L["bankgiro"], str(inv["seller"]["bankgiro"])),
    ]
    if due <= 0:
        note = L["no_payment"]
        if due < 0:
            note += " " + L["credit_balance"].format(amount=fmt.money(-due))
    elif partly:
        note = L["left_note"].format(amount=fmt.money(amount), left=fmt.money(left))
    else:
        note = L["pay_hint"]
    return cells, note


def _draw_box(pdf: InvoicePDF, cells: Cells, note: str, qr_text: str | None) -> None:
    """The tinted box: the cells in a row, the note below, and the bank-app QR code at the right."""
    x, y, w = pdf.l_margin, pdf.get_y(), pdf.content_width
    qr_size = 30.0 if qr_text else 0.0
    text_w = w - 12 - (qr_size + 4 if qr_text else 0)
    pdf.style(8.5)
    h = max(21 + 4.2 * pdf.line_count(text_w, 4.2, note) + 2, qr_size + 10 if qr_text else 0)
    pdf.set_fill_color(*ACCENT_LIGHT)
    pdf.rect(x, y, w, h, style="F")
    pdf.set_fill_color(*ACCENT)
    pdf.rect(x, y, 1.6, h, style="F")

    first_w = 54.0 if not qr_text else 46.0
    rest_w = (w - 6 - first_w - (qr_size + 4 if qr_text else 0)) / max(1, len(cells) - 1)
    cx = x + 6
    for i, (label, value) in enumerate(cells):
        cw = first_w if i == 0 else rest_w
        pdf.set_xy(cx, y + 4)
        pdf.style(8, color=MUTED)
        pdf.cell(cw, 4, label.upper())
        pdf.set_xy(cx, y + 9)
        if i == 0:
            pdf.style(17 if not qr_text else 15, bold=True, color=ACCENT)
            pdf.cell(cw, 9, value)
        else:
            pdf.style(10 if qr_text else 11, bold=True)
            pdf.cell(cw, 9, value)
        cx += cw
    pdf.set_xy(x + 6, y + 20)
    pdf.style(8.5, color=TEXT)
    pdf.multi_cell(text_w, 4.2, note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if qr_text:
        qx = x + w - qr_size - 3
        pdf.image(io.BytesIO(qr_png(qr_text)), x=qx, y=y + 2, w=qr_size, h=qr_size)
        pdf.set_xy(qx - 4, y + 2 + qr_size)
        pdf.style(6.5, color=MUTED)
        pdf.cell(qr_size + 8, 4, pdf.L["pay_qr"], align=Align.C)
    pdf.set_y(y + h + 2)


def draw_link(pdf: InvoicePDF) -> None:
    """The invoice's own short link and a QR code to it (``link_url``, when the dict has it)."""
    url = pdf.inv.get("link_url")
    if not url:
        return
    L = pdf.L
    x, y, w = pdf.l_margin, pdf.get_y() + 1, pdf.content_width
    size = 22.0
    pdf.image(io.BytesIO(qr_png(str(url))), x=x, y=y, w=size, h=size)
    pdf.set_xy(x + size + 4, y + 3)
    pdf.style(9.5, bold=True, color=ACCENT)
    pdf.cell(w - size - 4, 5, L["online"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style(8.5)
    pdf.multi_cell(w - size - 4, 4.2, L["online_text"], align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style(10, bold=True)
    pdf.cell(w - size - 4, 6, str(url), link=str(url), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), y + size) + 2)


def draw_plans_and_usage(pdf: InvoicePDF) -> None:
    inv, L = pdf.inv, pdf.L
    plans = inv.get("plans") or []
    if plans:
        section_title(pdf, L["plans_many"] if len(plans) > 1 else L["plans"])
        w = pdf.content_width
        rows = [
            [
                format_msisdn(p.get("msisdn")) or "-",
                p.get("plan_name", ""),
                p.get("allowances", ""),
            ]
            for p in plans
        ]
        simple_table(
            pdf,
            [L["col_msisdn"], L["col_plan"], L["col_allowances"]],
            [34.0, 50.0, w - 84.0],
            rows,
        )
    totals = inv.get("usage_totals") or []
    if totals:
        section_title(pdf, L["usage"])
        locale = "en" if L is LABELS["en"] else "sv"
        w = pdf.content_width
        for entry in totals:
            text, share = usage_sentence(entry, locale)
            if pdf.get_y() + 16 > pdf.page_break_trigger:
                pdf.add_page()
            pdf.style(8.5, bold=True)
            who = " \u00b7 ".join(p for p in (format_msisdn(entry.get("msisdn")), entry.get("plan_name")) if p)
            pdf.cell(w, 4.6, who, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.style(8.5)
            pdf.multi_cell(w, 4.4, text + ".", align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if share is not None:
                by = pdf.get_y() + 0.8
                pdf.set_fill_color(*HEAD_FILL)
                pdf.rect(pdf.l_margin, by, 80, 2.6, style="F")
                pdf.set_fill_color(*ACCENT)
                if share > 0:
                    pdf.rect(pdf.l_margin, by, max(0.6, 80 * share), 2.6, style="F")
                pdf.set_y(by + 3.6)
            if entry.get("prorated") and entry.get("data_allowance_bytes"):
                pdf.style(7.5, color=MUTED)
                pdf.cell(w, 4, L["prorated"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
    usage = inv.get("usage_summary") or []
    if usage:
        section_title(pdf, L["usage"])
        w = pdf.content_width
        rows = [[u.get("label", ""), u.get("used", ""), u.get("included", "")] for u in usage]
        simple_table(
            pdf,
            [L["col_service"], L["col_used"], L["col_included"]],
            [60.0, 50.0, w - 110.0],
            rows,
        )


def _group_lines(
    lines: Sequence[Mapping[str, Any]],
) -> list[tuple[str | None, list[Mapping[str, Any]]]]:
    """Group lines by MSISDN in order of first appearance; account-level lines last."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for line in lines:
        groups.setdefault(line.get("msisdn") or None, []).append(line)
    ordered: list[tuple[str | None, list[Mapping[str, Any]]]] = [(k, v) for k, v in groups.items() if k is not None]
    if None in groups:
        ordered.append((None, groups[None]))
    return ordered


def draw_specification(pdf: InvoicePDF, fmt: Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    section_title(pdf, L["specification"], space_needed=30)
    pdf.style(8, color=MUTED)
    incl = inv.get("prices_include_vat", True)
    pdf.cell(0, 4, L["prices_incl_vat"] if incl else L["prices_excl_vat"])
    pdf.ln(5)
    table_header(pdf)
    pdf.table_header_active = True

    plan_names = {p.get("msisdn"): p.get("plan_name") for p in inv.get("plans") or []}
    groups = _group_lines(inv.get("lines") or [])
    show_groups = len(groups) > 1 or (groups and groups[0][0] is not None)
    desc_w = COLS[0][1]
    for msisdn, lines in groups:
        if show_groups:
            if pdf.get_y() + 6 + LINE_H + 2 * ROW_PAD > pdf.page_break_trigger:
                pdf.add_page()
            if msisdn is None:
                title = L["group_other"]
            else:
                title = L["group_msisdn"].format(msisdn=format_msisdn(msisdn))
                if plan_names.get(msisdn):
                    title += f" \u2013 {plan_names[msisdn]}"
            pdf.ln(1)
            pdf.style(8.5, bold=True, color=ACCENT)
            pdf.cell(0, 5.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in lines:
            pdf.style(8.5)
            desc = str(line.get("description", ""))
            h = pdf.line_count(desc_w, LINE_H, desc) * LINE_H + 2 * ROW_PAD
            if pdf.get_y() + h > pdf.page_break_trigger:
                pdf.add_page()
            y = pdf.get_y()
            values = [
                desc,
                fmt.quantity(line.get("quantity"), line.get("unit")),
                fmt.price(line.get("unit_price")),
                fmt.rate(line["vat_rate"]) if line.get("vat_rate") is not None else "",
                fmt.money(int(line["amount_ore"])),
            ]
            x = pdf.l_margin
            for (_, width, align), text in zip(COLS, values, strict=True):
                pdf.set_xy(x, y + ROW_PAD)
                pdf.multi_cell(width, LINE_H, text, align=align)
                x += width
            pdf.set_draw_color(*RULE)
            pdf.line(pdf.l_margin, y + h, pdf.l_margin + pdf.content_width, y + h)
            pdf.set_y(y + h)
    pdf.table_header_active = False


def draw_totals(pdf: InvoicePDF, fmt: Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    is_credit = inv["kind"] == "credit_note"
    vat_rows = inv.get("vat") or []
    rounding = int(inv.get("rounding_ore") or 0)
    totals: list[tuple[str, str]] = [
        (L["net_total"], fmt.money(int(inv["net_ore"]))),
        (L["vat_total"], fmt.money(int(inv["vat_ore"]))),
        (L["gross_total"], fmt.money(int(inv["gross_ore"]))),
    ]
    if rounding:
        totals.append((L["rounding"], fmt.money(rounding)))
    final_label = L["amount_credited"] if is_credit else L["amount_due"]
    final_value = fmt.money(int(inv["amount_due_ore"]))

    needed = max(6 + 6 * (len(vat_rows) + 1), 5.5 * len(totals) + 12) + 8
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()

    # VAT per rate (left).
    x = pdf.l_margin
    widths = (24.0, 34.0, 30.0)
    pdf.style(9, bold=True, color=ACCENT)
    pdf.set_xy(x, top)
    pdf.cell(sum(widths), 5, L["vat_spec"])
    pdf.set_xy(x, top + 6)
    pdf.set_fill_color(*HEAD_FILL)
    pdf.style(8, bold=True, color=MUTED)
    heads = (L["col_vat_rate"], L["col_vat_base"], L["col_vat_amount"])
    for i, (text, width) in enumerate(zip(heads, widths, strict=True)):
        pdf.cell(width, 6, text, fill=True, align=Align.L if i == 0 else Align.R)
    y = top + 12
    for row in vat_rows:
        pdf.set_xy(x, y)
        pdf.style(8.5)
        cells = (
            fmt.rate(row["rate"]),
            fmt.money(int(row["net_ore"])),
            fmt.money(int(row["vat_ore"])),
        )
        for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
            pdf.cell(width, 6, text, align=Align.L if i == 0 else Align.R)
        pdf.set_draw_color(*RULE)
        pdf.line(x, y + 6, x + sum(widths), y + 6)
        y += 6
    left_bottom = y

    # Totals (right).
    tw = 80.0
    tx = pdf.w - pdf.r_margin - tw
    y = top
    for label, value in totals:
        pdf.set_xy(tx, y)
        pdf.style(9, color=MUTED)
        pdf.cell(tw / 2, 5.5, label)
        pdf.style(9)
        pdf.cell(tw / 2, 5.5, value, align=Align.R)
        y += 5.5
    y += 1.5
    pdf.set_draw_color(*TEXT)
    pdf.set_line_width(0.4)
    pdf.line(tx, y, tx + tw, y)
    pdf.set_line_width(0.2)
    pdf.set_xy(tx, y + 1.5)
    pdf.style(11, bold=True)
    pdf.cell(tw / 2, 7, final_label)
    pdf.style(12, bold=True, color=ACCENT)
    pdf.cell(tw / 2, 7, final_value, align=Align.R)
    pdf.set_y(max(left_bottom, y + 9))


def draw_contacts(pdf: InvoicePDF) -> None:
    inv, L = pdf.inv, pdf.L
    seller = inv["seller"]
    contact = [seller[k] for k in ("support_email", "support_phone", "website") if seller.get(k)]
    paragraphs = []
    if contact:
        paragraphs.append(f"{L['support']}: " + "  \u00b7  ".join(contact))
    for key in ("disputes", "late_interest_note"):
        if seller.get(key):
            paragraphs.append(str(seller[key]))
    if not paragraphs:
        return
    text = "\n".join(paragraphs)
    pdf.style(8.5)
    w = pdf.content_width - 10
    h = 12 + 4.2 * pdf.line_count(w, 4.2, text)
    if pdf.get_y() + h + 6 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(6)
    y = pdf.get_y()
    pdf.set_draw_color(*RULE)
    pdf.rect(pdf.l_margin, y, pdf.content_width, h, style="D")
    pdf.set_xy(pdf.l_margin + 5, y + 3.5)
    pdf.style(9.5, bold=True, color=ACCENT)
    pdf.cell(w, 5, L["questions"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 5)
    pdf.style(8.5)
    pdf.multi_cell(w, 4.2, text, align=Align.L)
    pdf.set_y(y + h)
