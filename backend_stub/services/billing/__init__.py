"""Billing: customers and subscriptions, usage (import, rating, queries, totals), the bill run, invoice numbering
and storing, the invoice view and credit notes, the forecast and the explanation of a line, invoice documents."""
