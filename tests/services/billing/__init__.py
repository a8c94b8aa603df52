"""Billing: usage, the bill run, invoices, credit notes, customers, the forecast."""
