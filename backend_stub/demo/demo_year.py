"""The demo lives its year: the invoice lifecycle run day by day over the seeded months.

After the customers, usage and charges are seeded, ``live_the_year`` walks from the first usage
month to the core clock's today and does, on each simulated day and through the same services the
operator uses, what would have happened: the bill run on the 1st, sending (and the letter
fallback two days later), subscribers opening their invoice links, BgMax files from the bank
(most pay on time; some late, some after a reminder, some in part; one or two with a mistyped
OCR), dunning on the days a step can fall due, autogiro and card payers, support threads an agent
answers (with a credit note or two), and one invoice that goes to collection.

Each day runs under ``clock.use(FrozenClock(...))`` and every service that takes ``now``/``today``
gets the simulated instant, so every timeline entry carries business time, never the real date.
Within a day actions run in time order, so the timeline's order is the order things were recorded.
Deterministic for a given seed and end day.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select

from backend_stub import clock
from backend_stub.demo.demo_data import usage_months
from backend_stub.demo.year_result import YearResult, summarise
from backend_stub.domain import banking
from backend_stub.domain.ocr import luhn_digit
from backend_stub.formats import autogiro as ag
from backend_stub.formats.bgmax import BgPayment, Deposit, write_bgmax
from backend_stub.services.access.tokens import AuthSettings
from backend_stub.services.autopay import autogiro_files, draws, mandates
from backend_stub.services.billing import credit_notes
from backend_stub.services.billing.billrun import run_bill_run
from backend_stub.services.lifecycle import dunning, ledger, links, messaging, payments, sending
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.paygw import TestPayProvider
from backend_stub.services.support import threads
from backend_stub.settings import get_settings
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions

__all__ = ["YearResult", "live_the_year"]

AGENT = threads.Author("agent", "Anna Agent", "agent:agent")
DEMO_ACCOUNT = "5841000001009823"  # the operator's bank account the Bankgiro deposits go to


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant of a simulated day, Stockholm wall time, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=clock.STOCKHOLM).astimezone(UTC)


def _noon_utc(day: date) -> datetime:
    # BgMax and autogiro payments are stamped 12:00 UTC of the bank date (services.lifecycle.payments, services.autopay)
    return datetime.combine(day, time(12), tzinfo=UTC)


def _personal_number(n: int) -> str:
    """A valid (modulus 10) demo personal identity number, born 1960-1999."""
    body = f"{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{(n * 37) % 1000:03d}"
    return body + str(luhn_digit(body[2:]))


class _Year:
    """The simulation's state: the agenda of timed actions per day and the plans per invoice."""

    def __init__(
        self, core: Any, cfg: LifecycleConfig, today: date, end_at: datetime, seed: int, say: Callable[[str], None]
    ) -> None:
        self.core, self.engine, self.cfg, self.today, self.end_at, self.say = core, core.engine, cfg, today, end_at, say
        self.seed = seed
        self.settings = AuthSettings.from_settings(get_settings())
        secret = (
            get_settings().paygw_secret
            or hmac.new(self.settings.secret.encode(), b"testpay-webhook", hashlib.sha256).hexdigest()
        )
        self.provider = TestPayProvider(self.engine, secret)
        self.mail = messaging.MailSettings()  # the demo's e-mail is recorded in the outbox, never sent
        self.sms = messaging.OutboxSmsProvider()
        self.agenda: dict[date, list[tuple[datetime, int, Callable[[], None]]]] = defaultdict(list)
        self.seq = 0
        self.bank_day: dict[date, list[tuple[str, str, str]]] = defaultdict(list)  # (invoice id, how, ocr)
        self.dunning_days: set[date] = set()
        self.autopay_customers: dict[int, str] = {}  # customer id → "autogiro" | "card"
        self.autopay_since: date | None = None
        self.names: dict[int, str] = {}
        self.channels: dict[int, str] = {}
        self.fee_agreed: dict[int, bool] = {}
        self.autogiro_orders: dict[date, list[ag.PaymentOrder]] = defaultdict(list)
        self.bgc_serial = 0
        self.deposit_serial = 0
        self.result: YearResult | None = None
        self.collection_period: str | None = None
        self.story_month: dict[str, str] = {}  # story → period that hosts it (and story_done → its invoice)
        self.story_counts: dict[str, int] = {}  # how many invoices a repeated story has had
        self.terms = cfg.dunning
        self.bankgiro = autogiro_files.payee_bankgiro(cfg, core.catalogue)

    # --- the agenda ------------------------------------------------------------------------------

    def plan(self, at: datetime, action: Callable[[], None]) -> None:
        """Do ``action`` at ``at`` (dropped when that is after the end of the simulated year)."""
        if at > self.end_at:
            return
        self.seq += 1
        heapq.heappush(self.agenda[clock.stockholm_date(at)], (at, self.seq, action))

    def counts(self) -> dict[str, int]:
        assert self.result is not None
        return self.result.counts

    def run(self, start: date) -> None:
        frozen = clock.FrozenClock(_at(start, 10))
        day = start
        with clock.use(frozen):
            while day <= self.today:
                if day in self.dunning_days and day < self.today:
                    self.plan(datetime.combine(day, time(6), tzinfo=UTC), partial(self.run_dunning, day))
                if self.bank_day.get(day):
                    self.plan(_noon_utc(day), partial(self.bank_file, day))
                if self.autopay_since is not None and day >= self.autopay_since:
                    self.plan(_at(day, 7), partial(self.autogiro_day, day))
                    self.plan(_at(day, 9), partial(self.card_day, day))
                # in time order; an action may plan more for later the same day
                todo = self.agenda.get(day, [])
                while todo:
                    at, _seq, action = heapq.heappop(todo)
                    frozen.set(at)
                    action()
                self.agenda.pop(day, None)
                day += timedelta(days=1)

    # --- the bill run and sending ------------------------------------------------------------------

    def bill_run(self, label: str, day: date) -> None:
        made = run_bill_run(self.engine, self.core.catalogue, label).invoices
        self.counts()["invoices"] += made
        self.say(f"{day.isoformat()}: bill run {label}, {made} invoices")
        self.send(_at(day, 10, 5))
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(m.Invoice)
                    .where(m.Invoice.kind == "invoice", m.Invoice.invoice_date == day)
                    .order_by(m.Invoice.number)
                )
            )
            for c in conn.execute(
                select(m.Customer.id, m.Customer.name, m.Customer.channel, m.Customer.reminder_fee_agreed)
            ):
                self.names[c.id], self.channels[c.id] = c.name, c.channel
                self.fee_agreed[c.id] = bool(c.reminder_fee_agreed)
        for inv in rows:
            self.plan_invoice(inv, label)
        self.plan(_at(day + timedelta(days=2), 10), lambda: self.send(_at(day + timedelta(days=2), 10)))
        # dunning runs on the days a step can fall due (overdue, reminders, collection), not every day
        for due in {inv.due_date for inv in rows}:
            for offset in (1, self.terms.reminder1_days, self.terms.reminder2_days, self.terms.collection_days):
                if offset:
                    self.dunning_days.add(due + timedelta(days=offset))

    def send(self, now: datetime) -> None:
        def link_for(invoice_id: str) -> str:
            return (
                self.cfg.public_url
                + links.invoice_link(self.engine, self.settings.secret, self.settings.issuer, invoice_id, now=now).path
            )

        res = sending.send_invoices(self.engine, self.cfg, mail=self.mail, sms=self.sms, link_for=link_for, now=now)
        for k in ("email", "sms", "letter", "fallback_letter"):
            self.counts()[f"sent_{k}"] += getattr(res, k)

    def open_link(self, invoice_id: str) -> None:
        now = clock.now()
        link = links.invoice_link(self.engine, self.settings.secret, self.settings.issuer, invoice_id, now=now)
        if links.open_link(self.engine, self.settings.secret, self.settings.issuer, link.token, now=now).first_open:
            self.counts()["opened"] += 1

    # --- what happens to one invoice ----------------------------------------------------------------

    def plan_invoice(self, inv: Any, label: str) -> None:
        """What the subscriber will do with a new invoice: open its link, and pay it in one of the year's
        stories or in the ordinary way (each invoice draws from its own seeded RNG, always in this order)."""
        rng = random.Random(f"{self.seed}:{inv.number}")
        sent_at = _at(inv.invoice_date, 10, 5)
        letter = self.channels.get(inv.customer_id) == "letter"
        r = rng.random()
        # most open the link within two days, so no letter follows (a letter is a PDF: the slow part of sending)
        if r < (0.3 if letter else 0.95):
            self.plan(sent_at + timedelta(minutes=rng.randint(20, 46 * 60)), lambda: self.open_link(inv.id))
        elif r < 0.98:  # some only after the letter came
            self.plan(
                sent_at + timedelta(days=rng.randint(3, 12), minutes=rng.randint(0, 600)),
                lambda: self.open_link(inv.id),
            )
        if inv.amount_due_ore <= 0:
            return
        if inv.customer_id in self.autopay_customers:
            return  # drawn by autogiro or card on the due date
        if self._plan_story(inv, label, rng):
            return
        self._plan_ordinary_payment(inv, label, rng)

    def _plan_story(self, inv: Any, label: str, rng: random.Random) -> bool:
        """The year's stories, each on one invoice of the period chosen for it: a credit note in full or in
        part after a thread, a question, collection, a respite, a reminder with a fee, a partial payment.
        True when the story settles what happens to the invoice."""
        story = self.story_month
        if story.get("credit_full") == label and not story.get("credit_full_done"):
            story["credit_full_done"] = inv.id
            self.plan_thread(
                inv,
                "Hej! Jag sade upp mitt abonnemang förra månaden men har ändå fått en faktura. Kan ni titta på det?",
                "Hej! Du har helt rätt, uppsägningen kom inte med i tid. Vi krediterar hela fakturan, "
                "du behöver inte betala den.",
                credit="full",
            )
            return True
        if story.get("credit_part") == label and not story.get("credit_part_done"):
            story["credit_part_done"] = inv.id
            self.plan_thread(
                inv,
                "Hej! Surfen fungerade inte alls under en vecka. Får jag avdrag för det?",
                "Hej! Ledsen för strulet. Vi har krediterat 50 kr, resten betalar du som vanligt.",
                credit=5_000,
            )
            self.plan_payment(inv, rng.randint(12, 25), "balance")
            return True
        if story.get("question") == label and self.story_counts.get("questions", 0) < 2 and rng.random() < 0.5:
            self.story_counts["questions"] = self.story_counts.get("questions", 0) + 1
            # the first question is answered; the second still waits in the agents' inbox
            self.plan_thread(
                inv,
                "Varför är fakturan högre den här månaden?",
                "Hej! Du surfade mer än det som ingår i ditt abonnemang; det syns under Användning. "
                "Med ett större paket blir det billigare."
                if self.story_counts["questions"] == 1
                else None,
                credit=None,
            )
        if label == self.collection_period and "collection_done" not in story:
            story["collection_done"] = inv.id
            return True  # never pays: reminders, then collection
        due = (inv.due_date - inv.invoice_date).days
        if label == story.get("respite") and "respite_done" not in story:
            # asks for a respite three days after the due date and pays only after the (moved) reminder
            story["respite_done"] = inv.id
            self.plan(_at(inv.due_date + timedelta(days=3), 20, 10), lambda: self.respite(inv))
            self.plan_payment(inv, due + self.terms.reminder1_days + self.terms.respite_max_days + 6, "balance")
            return True
        if label == story.get("reminded") and "reminded_done" not in story and self.fee_agreed.get(inv.customer_id):
            # a reminder with a fee, paid just before collection
            story["reminded_done"] = inv.id
            self.plan_payment(inv, due + self.terms.collection_days - 4, "balance")
            return True
        if label == story.get("question") and "partial_done" not in story:
            story["partial_done"] = inv.id  # a part paid the day after the invoice came, the rest later
            self.plan_payment(inv, 1, "part")
            self.plan_payment(inv, due - 2, "balance")
            return True
        return False

    def _plan_ordinary_payment(self, inv: Any, label: str, rng: random.Random) -> None:
        """Most pay in time; some late, before or after the first reminder; some in two parts; a few only
        after the second reminder; in one period a payment with a mistyped OCR number is paid again."""
        story = self.story_month
        due = (inv.due_date - inv.invoice_date).days
        r = rng.random()
        if self.story_counts.get("unmatched", 0) < 2 and label == story.get("unmatched_period") and r < 0.5:
            self.story_counts["unmatched"] = self.story_counts.get("unmatched", 0) + 1
            self.plan_payment(inv, rng.randint(5, due - 3), "mistyped")  # the bank cannot match it ...
            self.plan_payment(
                inv, due + self.terms.reminder1_days + rng.randint(3, 8), "balance"
            )  # ... so it is paid again
        elif r < 0.78:
            self.plan_payment(inv, rng.randint(3, due - 2), "balance")
        elif r < 0.86:
            self.plan_payment(inv, due + rng.randint(3, self.terms.reminder1_days - 2), "balance")
        elif r < 0.92:
            self.plan_payment(inv, due + self.terms.reminder1_days + rng.randint(3, 10), "balance")
        elif r < 0.97:
            self.plan_payment(inv, rng.randint(3, due - 2), "part")
            self.plan_payment(inv, due + self.terms.reminder1_days + rng.randint(4, 12), "balance")
        else:  # pays only after the second reminder, before collection
            self.plan_payment(inv, due + (self.terms.reminder2_days or 24) + rng.randint(4, 16), "balance")

    def plan_payment(self, inv: Any, days_after_invoice: int, how: str) -> None:
        day = banking.next_banking_day(inv.invoice_date + timedelta(days=max(days_after_invoice, 1)))
        if day > self.today:
            return
        self.bank_day[day].append((inv.id, how, inv.ocr))

    def plan_thread(self, inv: Any, question: str, answer: str | None, *, credit: int | str | None) -> None:
        """The subscriber asks on the invoice the evening after it came; an agent answers next morning
        (``answer`` None: not yet) and credits ``credit`` öre, or the whole invoice (``"full"``)."""
        asked = _at(inv.invoice_date + timedelta(days=1), 19, 40)
        customer = threads.Author("customer", self.names.get(inv.customer_id, ""), f"customer:{inv.customer_id}")
        self.plan(asked, lambda: self.post(inv.id, customer, question))
        if answer is None:
            return
        replied = _at(inv.invoice_date + timedelta(days=2), 9, 15)
        self.plan(replied, lambda: self.post(inv.id, AGENT, answer))
        if credit is not None:
            amount = None if credit == "full" else int(credit)
            self.plan(replied + timedelta(minutes=5), lambda: self.credit(inv.id, amount))

    def post(self, invoice_id: str, author: threads.Author, text: str) -> None:
        threads.post_message(self.engine, invoice_id, author, text, now=clock.now())
        self.counts()["messages"] += 1

    def credit(self, invoice_id: str, amount_ore: int | None) -> None:
        req = credit_notes.CreditRequest(
            reason="Uppsagt abonnemang fakturerat" if amount_ore is None else "Avdrag för avbrott i surfen",
            amount_ore=amount_ore,
            vat_rate=None if amount_ore is None else Decimal("0.25"),
            actor=AGENT.actor,
        )
        credit_notes.create_credit_note(self.engine, self.core.catalogue, invoice_id, req)
        self.counts()["credit_notes"] += 1
        self.send(clock.now() + timedelta(minutes=5))

    def respite(self, inv: Any) -> None:
        dunning.request_respite(
            self.engine,
            self.cfg,
            inv.id,
            self.terms.respite_max_days,
            actor=f"customer:{inv.customer_id}",
            today=clock.today(),
        )
        self.counts()["respites"] += 1

    # --- the bank: BgMax files ----------------------------------------------------------------------

    def bank_file(self, day: date) -> None:
        intents = self.bank_day.pop(day, [])
        with self.engine.connect() as conn:
            rows = {
                r.id: r for r in conn.execute(select(m.Invoice).where(m.Invoice.id.in_([i for i, _h, _o in intents])))
            }
            states = ledger.invoice_states(conn, list(rows.values()), day)
        pays: list[BgPayment] = []
        for inv_id, how, ocr in intents:
            inv, state = rows[inv_id], states[inv_id]
            if state.balance_ore <= 0:
                continue
            amount = state.balance_ore
            reference = ocr
            if how == "part":
                amount = max(100, (state.balance_ore // 2) // 100 * 100)
            elif how == "mistyped":  # two digits swapped: no invoice has it, so it waits for an agent
                reference = ocr[:-3] + ocr[-2] + ocr[-3] + ocr[-1] if ocr[-2] != ocr[-3] else ocr[:-1] + "0"
                amount = inv.amount_due_ore
            self.bgc_serial += 1
            pays.append(
                BgPayment(
                    0,
                    "20",
                    "",
                    reference,
                    amount,
                    "2",
                    "1",
                    f"{self.bgc_serial:012d}",
                    False,
                    name=self.names.get(inv.customer_id, "")[:35],
                )
            )
            self.counts()[f"bgmax_{how}"] += 1
        if not pays:
            return
        self.deposit_serial += 1
        dep = Deposit(
            0,
            self.bankgiro.rjust(10, "0"),
            "",
            "SEK",
            pays,
            bank_account=DEMO_ACCOUNT,
            payment_date=day,
            deposit_serial=f"{self.deposit_serial % 100000:05d}",
        )
        data = write_bgmax([dep], created_at=_at(day, 18).replace(tzinfo=None))
        res = payments.import_bgmax(self.engine, data, f"bgmax-{day.isoformat()}.txt")
        self.counts()["bgmax_files"] += 1
        self.counts()["unmatched"] += res.unmatched

    # --- dunning --------------------------------------------------------------------------------------

    def run_dunning(self, day: date) -> None:
        res = dunning.run_dunning(self.engine, self.cfg, today=day, mail=self.mail, sms=self.sms)
        for k in ("overdue", "reminder_1", "reminder_2", "collection"):
            self.counts()[k] += getattr(res, k)

    # --- automatic payment ------------------------------------------------------------------------

    def choose_autopay(self, start: date) -> None:
        """Two customers pay by autogiro and two by card from the first month on (one of each in a small seed)."""
        with self.engine.connect() as conn:
            subs = load_subscriptions(conn)
            channels = dict(conn.execute(select(m.Customer.id, m.Customer.channel)).all())
        steady: dict[int, bool] = {}
        for sub in subs:
            ok = sub.segment_on(start) is not None and sub.segment_on(self.today) is not None
            steady[sub.customer_id] = steady.get(sub.customer_id, True) and ok
        eligible = sorted(c for c, ok in steady.items() if ok and channels.get(c) == "email")
        if len(eligible) < 4:
            return
        n = 2 if len(eligible) >= 60 else 1
        picks = eligible[1 :: max(1, len(eligible) // (2 * n + 1))][: 2 * n]
        for i, cid in enumerate(picks):
            self.autopay_customers[cid] = "autogiro" if i % 2 == 0 else "card"
        setup = start + timedelta(days=4)
        self.autopay_since = setup + timedelta(days=1)
        self.plan(_at(setup, 19), self.setup_autopay)

    def setup_autopay(self) -> None:
        now = clock.now()
        for n, (cid, method) in enumerate(sorted(self.autopay_customers.items())):
            if method == "autogiro":
                mandates.set_autogiro(
                    self.engine, cid, "8327", f"{9_384_750_001 + n * 97:010d}", _personal_number(cid), now=now
                )
            else:
                session = mandates.start_card_setup(
                    self.engine, self.provider, cid, "http://localhost:3000/payment-method", now=now
                )
                signature, body = self.provider.complete_card_setup(session, "visa", now=now)
                self.provider.handle_webhook(signature, body, now=now)
            self.counts()[f"autopay_{method}"] += 1

    def autogiro_day(self, day: date) -> None:
        res = autogiro_files.export_autogiro(
            self.engine, self.core.catalogue, self.cfg, day, now=clock.now(), mail=self.mail, sms=self.sms
        )
        customer_number = self.cfg.autopay.bankgirot_customer_number
        for f in res.files:
            parsed = ag.parse_request(f["content"].encode(ag.ENCODING))  # files to Bankgirot
            if f["kind"] == "mandates" and res.counts.get("mandates"):
                answered = day + timedelta(days=2)
                advices = [
                    ag.MandateAdvice(
                        self.bankgiro, x.payer_number, x.account16, x.personal_number, "04", "32", answered
                    )
                    for x in parsed.mandates
                    if x.action == "create"
                ]
                data = ag.write_mandate_advice(ag.MandateAdviceFile(answered, customer_number, self.bankgiro, advices))
                self.plan(_at(answered, 8), partial(self.autogiro_answer, data, f"medavi-{answered}.txt", answered))
            elif f["kind"] == "payments" and res.counts.get("orders"):
                for order in parsed.payments:
                    when = order.payment_date or day
                    if when > self.today:
                        continue
                    self.autogiro_orders[when].append(order)
        # Bankgirot's payment specification for the day's draws (all covered), read at noon
        orders = self.autogiro_orders.pop(day, [])
        if orders:
            section = ag.PaymentSection(
                "15",
                DEMO_ACCOUNT,
                day,
                f"{day.toordinal() % 100000:05d}",
                0,
                0,
                [
                    ag.PaymentResult("82", day, "0", "", o.payer_number, o.amount_ore, self.bankgiro, o.reference, "0")
                    for o in orders
                ],
            )
            data = ag.write_payment_spec(
                ag.PaymentSpecFile(datetime.combine(day, time(12)), customer_number, self.bankgiro, [section])
            )
            self.plan(_noon_utc(day), lambda: self.autogiro_answer(data, f"betspec-{day}.txt", day))

    def autogiro_answer(self, data: bytes, name: str, day: date) -> None:
        res = autogiro_files.import_autogiro(
            self.engine,
            self.core.catalogue,
            self.cfg,
            data,
            name,
            today=day,
            now=clock.now(),
            mail=self.mail,
            sms=self.sms,
        )
        self.counts()["autogiro_paid"] += res.counts.get("paid", 0)

    def card_day(self, day: date) -> None:
        res = draws.run_card_draws(
            self.engine, self.provider, self.cfg, day, now=clock.now(), mail=self.mail, sms=self.sms
        )
        self.counts()["card_paid"] += res.counts.get("paid", 0)


def live_the_year(
    core: Any,
    *,
    today: date,
    months: int,
    seed: int = 1,
    cfg: LifecycleConfig | None = None,
    end_at: datetime | None = None,
    say: Callable[[str], None] = lambda _s: None,
) -> YearResult:
    """Run the invoice lifecycle day by day from the first of ``months`` usage months to ``today``.

    ``end_at`` is the instant the year ends (default: the core clock's now, else 23:59 on ``today``);
    nothing is done or stamped after it. Usage, customers and charges must be seeded already.
    """
    cfg = cfg or LifecycleConfig.from_env()
    window = usage_months(today, months)
    if not window:
        return YearResult(today, today)
    start = window[0][0]
    if end_at is None:
        now = core.now()
        end_at = now if clock.stockholm_date(now) == today else _at(today, 23, 59)
    year = _Year(core, cfg, today, end_at, seed, say)
    result = year.result = YearResult(start, today)
    labels = [f"{first.year:04d}-{first.month:02d}" for first, _last in window]
    bill_days = [last + timedelta(days=1) for _first, last in window]
    # the stories' months: credits two months back, the collection case as recent as collection allows
    terms_days = core.catalogue.operator.payment_terms_days
    old_enough = [
        lb
        for lb, d in zip(labels, bill_days, strict=True)
        if d + timedelta(days=terms_days + cfg.dunning.collection_days + 2) < today
    ]
    year.collection_period = old_enough[-1] if old_enough else None
    year.story_month.update(
        {
            "credit_full": labels[max(0, len(labels) - 3)],
            "credit_part": labels[max(0, len(labels) - 2)],
            "question": labels[-1],
            "unmatched_period": labels[max(0, len(labels) - 3)],
            "respite": labels[max(0, len(labels) - 2)],
            "reminded": labels[max(0, len(labels) - 3)],
        }
    )
    year.choose_autopay(start)
    year.dunning_days.add(today - timedelta(days=1))  # interest current up to yesterday
    for label, day in zip(labels, bill_days, strict=True):
        year.plan(_at(day, 10), partial(year.bill_run, label, day))
    year.run(start)
    summarise(core, result, today)
    return result
