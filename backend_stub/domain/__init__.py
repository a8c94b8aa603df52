"""The core's pure rules: no database, no HTTP, no wall clock (``.importlinter`` keeps it so).

Money in whole öre and exact rates (``money``), billing periods (``periods``), the catalogue
(``catalogue``), rating (``rating``), building and issuing an invoice (``invoicing``), OCR
references and the Luhn digit (``ocr``), the one state of an invoice (``invoice_state``), the
timeline and message texts (``texts``), Swedish banking days, bank accounts and personal numbers
(``banking``), the dunning rules (``dunning``), how a payment is allocated (``allocation``), the
operator's lifecycle terms (``lifecycle_terms``) and the core's error family (``errors``).
Each function takes what it needs (a date, a catalogue, the rows' values) and returns values.
"""
