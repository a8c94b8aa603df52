"""Output formats of the billing core (PDF invoices, ...)."""
