"""Charges: add-ons, one-off charges, instalments, pending plan changes."""
