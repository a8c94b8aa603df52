"""Late records: the invoiced period's invoice says they arrived, at the time they were imported."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.billing.usage import UsageImporter
from tests.lifecycle_support import bill_october

LATE_CSV = """record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country
late-1,+46701234567,sms,2026-10-30T09:00:00+01:00,,,+46739876543,
late-2,+46701234567,voice,2026-10-31T10:00:00+01:00,60,,+46812345678,
late-3,+46701234567,sms,2026-11-03T09:00:00+01:00,,,+46739876543,
"""


def test_late_records_are_noted_on_the_invoiced_period_at_import_time(core: Core) -> None:
    with clock.use(clock.FrozenClock("2026-11-01T06:00:00+01:00")) as frozen:
        invs = bill_october(core)
        frozen.set(datetime(2026, 11, 12, 9, 30, tzinfo=UTC))
        result = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(LATE_CSV)), "late.csv")
    assert result.rated == 3
    doc = get_invoice(core.engine, invs["K1"].id, lang="en")
    [late] = [e for e in doc["timeline"] if e["kind"] == "late_usage"]
    assert datetime.fromisoformat(late["at"]) == datetime(2026, 11, 12, 9, 30, tzinfo=UTC)
    assert late["data"]["count"] == 2  # the November record is not late
    assert late["texts"]["sv"] == (
        "2 användningsposter för oktober 2026 kom in efter att fakturan skapades; de debiteras på nästa faktura."
    )
    assert late["text"] == (
        "2 usage records for October 2026 arrived after this invoice was issued; they are billed on the next invoice."
    )
    assert doc["timeline"][-1]["kind"] == "late_usage"  # after creation, in business-time order
    # the same records again are duplicates: nothing new on the timeline
    with clock.use(clock.FrozenClock("2026-11-13")):
        again = UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(LATE_CSV)), "l.csv")
    assert again.duplicate == 3
    kinds = [e["kind"] for e in get_invoice(core.engine, invs["K1"].id)["timeline"]]
    assert kinds.count("late_usage") == 1
