"""The demo's CSV files: the customers file and the CDR file (spec/cdr-csv.md), written to a path or an
open text file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from itertools import islice
from typing import IO

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_number",
    "subscription_id",
    "name",
    "email",
    "phone",
    "street",
    "postal_code",
    "city",
    "channel",
    "msisdn",
    "plan",
    "start_date",
    "end_date",
    "reminder_fee_agreed",
    "discount",
    "discount_start",
    "cycle_day",
)

CDR_COLUMNS: tuple[str, ...] = (
    "record_id",
    "msisdn",
    "service",
    "started_at",
    "duration_s",
    "volume_bytes",
    "called_number",
    "visited_country",
)


def _open(path_or_file: str | os.PathLike[str] | IO[str]) -> tuple[IO[str], bool]:
    if isinstance(path_or_file, (str, os.PathLike)):
        return open(path_or_file, "w", encoding="utf-8", newline=""), True
    return path_or_file, False


def write_cdr_csv(path_or_file: str | os.PathLike[str] | IO[str], rows: Iterable[tuple[str, ...]]) -> int:
    """Write the CDR CSV header plus ``rows`` (e.g. from :func:`generate_cdrs`).

    ``path_or_file`` is a path (written as UTF-8) or an open text file (opened with
    ``newline=""`` for real files). Returns the number of data rows written.
    """
    fh, owned = _open(path_or_file)
    try:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CDR_COLUMNS)
        count = 0
        it = iter(rows)
        while True:
            batch = list(islice(it, 20_000))
            if not batch:
                break
            writer.writerows(batch)
            count += len(batch)
        return count
    finally:
        if owned:
            fh.close()


def write_customers_csv(path_or_file: str | os.PathLike[str] | IO[str], rows: list[dict[str, str]]) -> int:
    """Write the customers CSV (header :data:`CUSTOMER_COLUMNS` plus ``rows``).

    Returns the number of data rows written.
    """
    fh, owned = _open(path_or_file)
    try:
        writer = csv.DictWriter(fh, fieldnames=CUSTOMER_COLUMNS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return len(rows)
    finally:
        if owned:
            fh.close()
