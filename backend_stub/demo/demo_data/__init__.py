"""Deterministic generator of a believable demo operator (Nordvik Telecom AB).

Produces customers (one row per subscription segment) and usage records (CDRs) in the
CSV interchange format (spec/cdr-csv.md). Everything is driven by
``random.Random`` instances seeded from the caller's ``seed``, so the same arguments
always give the same output. Pure Python, no I/O except what the caller passes in.

The CDR generator is built for throughput (a benchmark streams 1,000,000 rows): all
calendar work (dates, Europe/Stockholm offsets, hour-of-day weights) is precomputed once
per month, and each event costs a handful of ``random()``/``getrandbits()`` calls, one
``bisect`` and some string concatenation.

The package: ``months``, ``customers``, ``usage`` (the CDRs), ``csv_files``, ``charges``.
"""

from __future__ import annotations

from backend_stub.demo.demo_data.charges import seed_charges
from backend_stub.demo.demo_data.csv_files import CDR_COLUMNS, CUSTOMER_COLUMNS, write_cdr_csv, write_customers_csv
from backend_stub.demo.demo_data.customers import generate_customers
from backend_stub.demo.demo_data.months import DEFAULT_MONTHS, usage_months
from backend_stub.demo.demo_data.usage import active_subscription_months, generate_cdrs

__all__ = [
    "DEFAULT_MONTHS",
    "CDR_COLUMNS",
    "CUSTOMER_COLUMNS",
    "active_subscription_months",
    "generate_cdrs",
    "generate_customers",
    "seed_charges",
    "usage_months",
    "write_cdr_csv",
    "write_customers_csv",
]
