"""File formats: CDR CSV, BgMax, Autogiro, the invoice PDF."""
