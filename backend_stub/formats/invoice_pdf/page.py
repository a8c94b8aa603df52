"""The invoice's page: A4 with Helvetica, the colours, the running header and footer, and the table
primitives every block draws with (column layout, headers that repeat on a new page, key-value rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from backend_stub.formats.invoice_pdf.text import sanitize_text

ACCENT = (17, 61, 109)

ACCENT_LIGHT = (234, 241, 249)

TEXT = (33, 37, 41)

MUTED = (108, 117, 125)

RULE = (222, 226, 230)

HEAD_FILL = (244, 246, 248)

_MARGIN = 18.0

_FOOTER_H = 24.0


class InvoicePDF(FPDF):
    """FPDF with the invoice's running header (pages 2+) and footer (every page)."""

    def __init__(self, inv: Mapping[str, Any], labels: Mapping[str, Any]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.inv = inv
        self.L = labels
        self.core_fonts_encoding = "windows-1252"
        self.set_margins(_MARGIN, 16, _MARGIN)
        self.set_auto_page_break(True, margin=_FOOTER_H + 8)
        self.alias_nb_pages("{nb}")
        self.table_header_active = False

    # fpdf2 runs every text through this before encoding it.

    def line_count(self, w: float, h: float, text: str, align: Align = Align.L) -> int:
        """How many lines ``text`` takes in a cell ``w`` wide: a dry run of ``multi_cell``."""
        lines = self.multi_cell(w, h, text, align=align, dry_run=True, output="LINES")
        assert isinstance(lines, list)  # output="LINES" gives the lines (fpdf2 types every output as one union)
        return len(lines)

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(sanitize_text(text))

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = TEXT) -> None:
        self.set_font("helvetica", "B" if bold else "", size)
        self.set_text_color(*color)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        seller = self.inv["seller"]
        title = self.L["credit_note"] if self.inv["kind"] == "credit_note" else self.L["invoice"]
        self.set_y(12)
        self.style(11, bold=True, color=ACCENT)
        self.cell(self.content_width / 2, 6, seller["name"])
        self.style(9, color=MUTED)
        right = self.L["continued"].format(title=title, number=self.inv["number"])
        right += f"  \u00b7  {self.L['customer_number']} {self.inv['customer_number']}"
        self.cell(self.content_width / 2, 6, right, align=Align.R)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, 20, self.w - self.r_margin, 20)
        self.set_y(25)
        if self.table_header_active:
            table_header(self)

    def footer(self) -> None:
        seller = self.inv["seller"]
        top = self.h - _FOOTER_H
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, top, self.w - self.r_margin, top)
        widths = (52.0, 50.0, 52.0, self.content_width - 154.0)
        col1 = [seller["name"], *seller.get("address", [])]
        col2 = [
            f"{self.L['org_number']} {seller['org_number']}",
            f"{self.L['vat_number']} {seller['vat_number']}",
        ]
        if seller.get("f_tax_approved", True):
            col2.append(self.L["f_tax"])
        col3 = [f"{self.L['bankgiro']} {seller['bankgiro']}"]
        col3 += [seller[k] for k in ("support_email", "support_phone", "website") if seller.get(k)]
        col4 = [self.L["page"].format(page=self.page_no(), pages="{nb}")]
        x = self.l_margin
        for i, (w, lines) in enumerate(zip(widths, (col1, col2, col3, col4), strict=True)):
            y = top + 3
            for j, text in enumerate(lines):
                self.set_xy(x, y)
                self.style(7.5, bold=(i == 0 and j == 0), color=TEXT if j == 0 else MUTED)
                self.cell(w, 3.6, text, align=Align.R if i == 3 else Align.L)
                y += 3.6
            x += w


# Specification table columns: (label key, width mm, alignment)
COLS: tuple[tuple[str, float, Align], ...] = (
    ("col_description", 78.0, Align.L),
    ("col_quantity", 24.0, Align.R),
    ("col_unit_price", 26.0, Align.R),
    ("col_vat", 16.0, Align.R),
    ("col_amount", 30.0, Align.R),
)

ROW_PAD = 1.1

LINE_H = 4.0


def table_header(pdf: InvoicePDF) -> None:
    pdf.set_fill_color(*HEAD_FILL)
    pdf.style(8, bold=True, color=MUTED)
    pdf.set_x(pdf.l_margin)
    for key, width, align in COLS:
        pdf.cell(width, 6.5, pdf.L[key], align=align, fill=True)
    pdf.ln(6.5)


def section_title(pdf: InvoicePDF, text: str, space_needed: float = 20.0) -> None:
    if pdf.get_y() + space_needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    pdf.style(10.5, bold=True, color=ACCENT)
    pdf.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def key_value_rows(pdf: InvoicePDF, x: float, y: float, w: float, rows: Sequence[tuple[str, str]]) -> float:
    """Label left, value right, one row each; returns the y below the last row."""
    label_w = 36.0
    for label, value in rows:
        pdf.set_xy(x, y)
        pdf.style(8.5, color=MUTED)
        pdf.cell(label_w, 5, label)
        pdf.style(9, bold=True)
        lines = pdf.line_count(w - label_w, 5, value, align=Align.R)
        pdf.set_xy(x + label_w, y)
        pdf.multi_cell(w - label_w, 5, value, align=Align.R)
        y += 5 * max(1, lines)
    return y


def simple_table(
    pdf: InvoicePDF,
    headers: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    bold_first: bool = True,
) -> None:
    """Draw a light table whose cells wrap; rows never split over a page."""
    pdf.set_fill_color(*HEAD_FILL)
    pdf.style(8, bold=True, color=MUTED)
    pdf.set_x(pdf.l_margin)
    for text, width in zip(headers, widths, strict=True):
        pdf.cell(width, 6, text, fill=True)
    pdf.ln(6)
    for row in rows:
        heights = []
        for i, (text, width) in enumerate(zip(row, widths, strict=True)):
            pdf.style(8.5, bold=bold_first and i == 0)
            heights.append(pdf.line_count(width, LINE_H, text) * LINE_H)
        h = max(heights) + 2 * ROW_PAD
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        for i, (text, width) in enumerate(zip(row, widths, strict=True)):
            pdf.style(8.5, bold=bold_first and i == 0)
            pdf.set_xy(x, y + ROW_PAD)
            pdf.multi_cell(width, LINE_H, text, align=Align.L)
            x += width
        pdf.set_draw_color(*RULE)
        pdf.line(pdf.l_margin, y + h, pdf.l_margin + sum(widths), y + h)
        pdf.set_y(y + h)
