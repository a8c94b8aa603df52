"""Rule tests that read like the rule: a case is a small text a bookkeeper can check by hand.

In the way beancount's ``ops/*_test.py`` embed a ledger in a test's docstring, an
``@invoice_case`` test writes the subscription, the usage and the invoice it must give::

    @invoice_case
    def test_ore_rounding_up(draft):
        '''
        plan rorlig
        period 2026-10

        2026-10-04 08:00  data  16 980 MB          # 16 980 MB × 0,01 kr = 169,80 kr

        Rörlig, 1 okt–31 okt        49,00 kr
        Surf                       169,80 kr
        ---
        Summa                      218,80 kr
        Moms 25 %                   43,76 kr      # 218,80 × 0,25 / 1,25
        Öresavrundning               0,20 kr
        Att betala                 219,00 kr
        '''

The harness rates the usage with the real rater (``rating.rate_period``), sums it per rate as
the bill run's SQL does and builds the invoice (``invoicing.build_invoice``) on
``tests/fixtures/golden.toml``; then it writes that invoice in the same form and compares the
two texts, so a failure shows both invoices. The test's body receives the built draft for
anything the text does not show (quantities, units).

The case language, one statement per line (``#`` starts a comment):

* ``plan <id> [from YYYY-MM-DD] [until YYYY-MM-DD]``: a plan segment; several lines for a plan change.
* ``period YYYY-MM``: the invoiced period.
* ``discount <id> from YYYY-MM [account]``: a discount grant of the catalogue (the subscription's
  unless ``account``).
* ``one-off <description> <amount> kr moms <rate> %``: a one-off charge, e.g.
  ``one-off Tidning  60,00 kr  moms 6 %``.
* ``late <YYYY-MM>``: the usage lines that follow belong to that earlier (already invoiced) period.
* a usage line: ``<date> <time>[±hh:mm]  <service>  [amount unit]  [to <number>]  [in <country>]``:
  service ``data`` (``B``, ``MB``, ``GB``), ``voice`` (``s``), ``sms`` or ``mms``; the time is
  Stockholm time unless it carries its offset (``2026-10-25 02:30+01:00``, the DST night).
* the invoice: ``<line text>  <amount> kr`` (two spaces apart), ``---``, then the totals
  ``Summa``, ``Moms <rate> %`` per rate, ``Öresavrundning`` (when not zero) and ``Att betala``.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import Catalogue, load_catalogue
from backend_stub.domain.periods import Period, PlanSegment, Subscription, period_for
from backend_stub.domain.rating import GB, MB, RatedEvent, Rejection, UsageEvent, rate_period
from selfcare_common.money_format import format_kr
from tests.conftest import FIXTURES

GOLDEN = load_catalogue(FIXTURES / "golden.toml")
MSISDN = "+46701234567"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
_UNITS = {"B": 1, "MB": MB, "GB": GB, "s": 1}
_COLUMNS = re.compile(r"\s{2,}")
_USAGE = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<offset>[+-]\d{2}:\d{2})?\s+"
    r"(?P<service>data|voice|sms|mms)"
    r"(?:\s+(?P<amount>\d[\d ]*?)\s*(?P<unit>B|MB|GB|s)\b)?"
    r"(?:\s+to\s+(?P<to>\+\d+))?"
    r"(?:\s+in\s+(?P<country>[A-Z]{2}))?\s*$"
)
_ONE_OFF = re.compile(r"^one-off\s+(?P<text>.+?)\s{2,}(?P<amount>-?[\d ]+,\d{2}) kr\s+moms (?P<rate>\d+) %$")


class CaseError(ValueError):
    """A case text that cannot be read: names the line."""


@dataclass
class InvoiceCase:
    """What a case text says: the subscription, the period, the usage and the expected invoice."""

    segments: list[PlanSegment] = field(default_factory=list)
    period: str = ""
    events: dict[str, list[UsageEvent]] = field(default_factory=lambda: defaultdict(list))  # per period label
    grants: list[invoicing.DiscountGrant] = field(default_factory=list)
    one_offs: list[invoicing.OneOffCharge] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def subscription(self) -> Subscription:
        return Subscription(id=1, number="S-1", customer_id=1, msisdn=MSISDN, segments=tuple(self.segments))

    def build(self, catalogue: Catalogue = GOLDEN) -> invoicing.InvoiceDraft:
        sub = self.subscription
        aggregates: list[invoicing.UsageAggregate] = []
        for label, events in self.events.items():
            period = period_for(label)
            aggregates += aggregate(sub.id, period, rate(catalogue, sub, period, events))
        return invoicing.build_invoice(
            catalogue, 1, [sub], period_for(self.period), aggregates, self.grants, self.one_offs
        )


def parse(text: str) -> InvoiceCase:
    """Read a case text (see the module's docstring); a line that cannot be read is named."""
    case = InvoiceCase()
    usage_period = None
    in_invoice = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            if line.startswith("plan "):
                case.segments.append(_segment(line))
            elif line.startswith("period "):
                case.period = usage_period = line.split()[1]
            elif line.startswith("late "):
                usage_period = line.split()[1]
            elif line.startswith("discount "):
                case.grants.append(_grant(line))
            elif line.startswith("one-off "):
                case.one_offs.append(_one_off(line))
            elif _USAGE.match(line):
                case.events[usage_period or case.period].append(_event(line))
            elif line == "---":
                case.expected.append(("---", ""))
                in_invoice = True
            else:
                label, amount = _COLUMNS.split(line, maxsplit=1)
                if not amount.endswith(" kr"):
                    raise ValueError(f"an amount ends in kr: {amount!r}")
                case.expected.append((label, amount))
        except ValueError as exc:
            raise CaseError(f"line {number}: {raw.strip()!r}: {exc}") from None
    if not (case.segments and case.period and in_invoice):
        raise CaseError("a case needs a plan, a period and an invoice with its totals below ---")
    return case


def render(draft: invoicing.InvoiceDraft) -> list[tuple[str, str]]:
    """The invoice as the case text writes it: lines, ``---``, totals (kronor with öre)."""
    rows = [(ln.description, kr(ln.amount_ore)) for ln in draft.lines]
    rows += [("---", ""), ("Summa", kr(draft.gross_ore))]
    rows += [(f"Moms {(row.rate * 100).normalize():f} %", kr(row.vat_ore)) for row in draft.vat]
    if draft.rounding_ore:
        rows.append(("Öresavrundning", kr(draft.rounding_ore)))
    rows.append(("Att betala", kr(draft.amount_due_ore)))
    return rows


def kr(ore: int) -> str:
    return format_kr(ore, "sv", plain_spaces=True)


def written(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows) + 4
    return "\n".join(label if label == "---" else f"{label:<{width}}{amount:>14}" for label, amount in rows)


def check(text: str, catalogue: Catalogue = GOLDEN) -> invoicing.InvoiceDraft:
    """Build the case's invoice and compare it with the text; returns the draft."""
    case = parse(text)
    draft = case.build(catalogue)
    assert sum(ln.amount_ore for ln in draft.lines) == draft.gross_ore  # the lines make the total
    assert draft.net_ore == draft.gross_ore - draft.vat_ore
    got = render(draft)
    assert got == case.expected, f"\nthe case says:\n{written(case.expected)}\n\nthe invoice is:\n{written(got)}"
    return draft


def invoice_case(test: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: the test's docstring is the case; the test receives the built draft first."""
    text = inspect.getdoc(test) or ""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        return test(check(text), *args, **kwargs)

    parameters = list(inspect.signature(test).parameters.values())[1:]
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]  # pytest must not see `draft`
    return run


# --------------------------------------------------------------------------- the steps the bill run takes


def rate(catalogue: Catalogue, sub: Subscription, period: Period, events: list[UsageEvent]) -> list[RatedEvent]:
    results, _ = rate_period(catalogue, sub, period, events)
    rejected = [r for r in results if isinstance(r, Rejection)]
    assert not rejected, rejected
    return results  # type: ignore[return-value]  # no rejections: all rated


def aggregate(sub_id: int, period: Period, rated: list[RatedEvent]) -> list[invoicing.UsageAggregate]:
    """Sum rated events per (subscription, period_start, rate_key, offpeak), as the bill run's SQL does."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for r in rated:
        s = sums[(sub_id, period.start, r.rate_key, r.offpeak)]
        s[0] += r.charged_units
        s[1] += r.charge_exact - r.fee_exact - r.surcharge_exact
        s[2] += 1 if r.fee_exact > 0 else 0
        s[3] += r.fee_exact
        s[4] += r.surcharge_units
        s[5] += r.surcharge_exact
    return [invoicing.UsageAggregate(*key, *values) for key, values in sums.items()]


# --------------------------------------------------------------------------- reading one statement

_ids = iter(range(1, 10**9))


def _segment(line: str) -> PlanSegment:
    words = line.split()
    options = dict(zip(words[2::2], words[3::2], strict=True))
    if set(options) - {"from", "until"}:
        raise ValueError("a plan takes 'from' and 'until' dates")
    start = date.fromisoformat(options.get("from", "2026-01-01"))
    end = date.fromisoformat(options["until"]) if "until" in options else None
    return PlanSegment(words[1], start, end)


def _grant(line: str) -> invoicing.DiscountGrant:
    words = line.split()
    if len(words) not in (4, 5) or words[2] != "from" or words[4:] not in ([], ["account"]):
        raise ValueError("write: discount <id> from YYYY-MM [account]")
    return invoicing.DiscountGrant(words[1], words[3], subscription_id=None if words[4:] else 1)


def _one_off(line: str) -> invoicing.OneOffCharge:
    m = _ONE_OFF.match(line)
    if not m:
        raise ValueError("write: one-off <text>  <amount> kr  moms <rate> %")
    ore = int(m["amount"].replace(" ", "").replace(",", ""))
    return invoicing.OneOffCharge(m["text"], ore, Decimal(m["rate"]) / 100)


def _event(line: str) -> UsageEvent:
    m = _USAGE.match(line)
    assert m
    clock = time.fromisoformat(m["time"])
    when = datetime.combine(date.fromisoformat(m["day"]), clock, tzinfo=STOCKHOLM)
    if m["offset"]:
        when = datetime.fromisoformat(f"{m['day']}T{m['time']}{m['offset']}")
    amount = int(m["amount"].replace(" ", "")) * _UNITS[m["unit"]] if m["amount"] else 0
    service = m["service"]
    if (service == "voice") != (m["unit"] == "s") or (service == "data") != (m["unit"] in ("B", "MB", "GB")):
        raise ValueError("voice is counted in s, data in B, MB or GB, sms and mms without an amount")
    return UsageEvent(
        f"r{next(_ids):09d}",
        MSISDN,
        service,
        int(when.timestamp()),
        amount if service == "voice" else 0,
        amount if service == "data" else 0,
        m["to"] or "",
        m["country"] or "",
    )
