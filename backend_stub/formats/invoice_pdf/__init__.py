"""Render an issued invoice or credit note as an A4 PDF.

The renderer is a pure function of the invoice dict (see :func:`render_invoice_pdf`):
no database, no network, no clock. The same dict always gives the same bytes.

It prints every item Swedish invoice law asks for (mervärdesskattelagen 17 kap. 24 §:
date of issue, a unique sequential number, the seller's VAT number, seller's and
buyer's names and addresses, what was supplied and how much, the period of supply,
the taxable amount and VAT per rate, the VAT rate per line, the VAT total and, for a
credit note, a reference to the invoice it changes) plus what a telecom subscriber
expects: the plans and what they include, a usage summary, how to pay (OCR, Bankgiro,
due date), support contacts, how to dispute the invoice and the late-interest note.

Only the PDF core font Helvetica is used, so no font file is needed on any machine.
Text is encoded as Windows-1252 (the PDF's WinAnsiEncoding), which covers Swedish
(å ä ö é), the en dash and the euro sign; other characters are mapped by
:func:`sanitize_text`.

The package: ``text`` (labels and formatting), ``page`` (the page and its table primitives), ``blocks``
(the page's blocks), ``document`` (``render_invoice_pdf``: the blocks in order).
"""

from __future__ import annotations

from backend_stub.formats.invoice_pdf.blocks import qr_png
from backend_stub.formats.invoice_pdf.document import render_invoice_pdf
from backend_stub.formats.invoice_pdf.text import LABELS, data_volume, sanitize_text, usage_sentence

__all__ = ["LABELS", "data_volume", "qr_png", "render_invoice_pdf", "sanitize_text", "usage_sentence"]
