"""The demo's customers: believable Swedish names, addresses and numbers, one row per subscription
segment (plan changes, ends, discounts), deterministic for a seed.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import date, timedelta

from backend_stub.demo.demo_data.csv_files import CUSTOMER_COLUMNS
from backend_stub.demo.demo_data.months import DEFAULT_MONTHS, cumulative, usage_months

# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Eva", "Maria", "Karin", "Sara", "Christina", "Lena", "Emma", "Kerstin",
    "Marie", "Malin", "Ingrid", "Åsa", "Märta", "Linnéa", "Sofia", "Johanna", "Elin",
    "Ida", "Hanna", "Birgitta", "Margareta", "Ulla", "Agneta", "Ebba", "Astrid", "Maja",
    "Alva", "Signe", "Tove", "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils",
    "Mikael", "Jan", "Hans", "Peter", "Olof", "Gustav", "Björn", "Göran", "Sven",
    "Fredrik", "Mats", "Jonas", "Stefan", "Oskar", "Axel", "Ludvig", "Måns", "Örjan",
    "Håkan", "Jöns", "André", "Viktor", "Elias", "Liam",
)
# fmt: on


# fmt: off
LAST_NAMES: tuple[str, ...] = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström",
    "Olofsson", "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg",
    "Lind", "Lundgren", "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg",
    "Henriksson", "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson",
    "Lundin", "Håkansson", "Björk", "Bergman", "Gunnarsson", "Holm", "Wikström",
    "Samuelsson", "Isaksson", "Fransson", "Bergqvist", "Nyström", "Holmberg",
    "Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson", "Åberg",
    "Östlund", "Ström",
)
# fmt: on


# fmt: off
STREETS: tuple[str, ...] = (
    "Storgatan", "Drottninggatan", "Kungsgatan", "Järnvägsgatan", "Skolgatan",
    "Kyrkogatan", "Nygatan", "Trädgårdsgatan", "Östra Långgatan", "Västra vägen",
    "Björkvägen", "Ekvägen", "Tallvägen", "Granvägen", "Lönnvägen", "Parkvägen",
    "Villavägen", "Ängsvägen", "Sjövägen", "Bäckvägen", "Hamngatan", "Torggatan",
    "Prästgårdsgatan", "Stationsvägen", "Industrigatan", "Södra Förstadsgatan",
    "Rosenvägen", "Lärkvägen", "Solvägen", "Furuvägen", "Backvägen", "Allén",
    "Götgatan", "Vasagatan", "Linnégatan", "Sveavägen", "Övre Husargatan",
    "Slottsgatan", "Fjällgatan", "Strandvägen",
)
# fmt: on


# (city, lowest postal number, highest postal number, weight ~ population)
CITIES: tuple[tuple[str, int, int, int], ...] = (
    ("Stockholm", 11120, 12999, 260),
    ("Solna", 16929, 17199, 22),
    ("Nacka", 13130, 13199, 30),
    ("Södertälje", 15130, 15199, 20),
    ("Göteborg", 41101, 41879, 160),
    ("Mölndal", 43130, 43199, 18),
    ("Malmö", 21112, 21799, 100),
    ("Lund", 22220, 22739, 30),
    ("Helsingborg", 25220, 25669, 30),
    ("Uppsala", 75219, 75655, 55),
    ("Västerås", 72210, 72599, 40),
    ("Örebro", 70210, 70379, 40),
    ("Linköping", 58213, 58937, 40),
    ("Norrköping", 60210, 60597, 35),
    ("Jönköping", 55302, 55629, 35),
    ("Umeå", 90325, 90799, 35),
    ("Gävle", 80250, 80649, 25),
    ("Borås", 50330, 50764, 25),
    ("Eskilstuna", 63220, 63517, 22),
    ("Karlstad", 65224, 65639, 22),
    ("Växjö", 35230, 35596, 20),
    ("Halmstad", 30230, 30296, 20),
    ("Sundsvall", 85230, 85753, 18),
    ("Luleå", 97231, 97597, 15),
    ("Östersund", 83130, 83196, 12),
    ("Trollhättan", 46130, 46199, 12),
    ("Kalmar", 39230, 39365, 12),
    ("Falun", 79130, 79197, 11),
    ("Skellefteå", 93130, 93198, 10),
    ("Kristianstad", 29131, 29194, 10),
    ("Visby", 62141, 62158, 6),
    ("Kiruna", 98131, 98146, 4),
)

MOBILE_PLANS: tuple[str, ...] = (
    "mobil-bas",
    "mobil-5gb",
    "mobil-20gb",
    "mobil-obegransad",
)

MOBILE_PLAN_WEIGHTS: tuple[int, ...] = (15, 35, 30, 20)

BROADBAND_PLANS: tuple[str, ...] = ("bredband-100", "bredband-250")

BROADBAND_PLAN_WEIGHTS: tuple[int, ...] = (60, 40)

DISCOUNTS: tuple[str, ...] = ("3-man-gratis", "halva-priset-6")

MSISDN_PREFIXES: tuple[str, ...] = ("+4670", "+4672", "+4673", "+4676")

_FOLD = str.maketrans(
    {
        "å": "a",
        "ä": "a",
        "ö": "o",
        "é": "e",
        "è": "e",
        "ü": "u",
        "æ": "ae",
        "ø": "o",
        "Å": "A",
        "Ä": "A",
        "Ö": "O",
        "É": "E",
        "Ü": "U",
        "Æ": "AE",
        "Ø": "O",
    }
)


def _fold_ascii(text: str) -> str:
    return text.translate(_FOLD)


def _msisdn(index: int, seed: int) -> str:
    """Unique Swedish mobile number for the ``index``-th mobile subscription.

    ``index`` is scrambled by an affine permutation modulo 4 * 10**7 (multiplier coprime
    to 10) that picks one of the four prefixes and a 7-digit body; the body is then
    digit-reversed and put through a second affine permutation modulo 10**7. Every step
    is a bijection, so distinct indexes below 4 * 10**7 always give distinct numbers.
    """
    x = (index * 7_368_787 + 12_345_678 + seed * 104_729) % 40_000_000
    prefix, body = divmod(x, 10_000_000)
    body = (int(f"{body:07d}"[::-1]) * 3_141_593 + 2_718_281) % 10_000_000
    return f"{MSISDN_PREFIXES[prefix]}{body:07d}"


def _street(rng: random.Random) -> str:
    street = rng.choice(STREETS)
    number = int(rng.paretovariate(1.3)) if rng.random() < 0.5 else rng.randint(1, 60)
    number = max(1, min(number, 140))
    text = f"{street} {number}"
    r = rng.random()
    if r < 0.08:
        text += rng.choice("ABC")
    if r < 0.45:
        text += f" lgh {rng.randint(10, 16)}{rng.randint(1, 6):02d}"
    return text


def generate_customers(
    n: int,
    *,
    seed: int = 1,
    today: date,
    months: int = DEFAULT_MONTHS,
) -> list[dict[str, str]]:
    """Generate ``n`` demo customers as customers-CSV rows (one per subscription segment).

    Columns are :data:`CUSTOMER_COLUMNS`, all values strings ("" for none). The usage
    window is the ``months`` complete calendar months before ``today``'s month (see
    :func:`usage_months`); most subscriptions started years before it, some start inside
    it, ~3 % end inside it and ~4 % of mobile subscriptions change plan once inside it
    (two rows with the same ``subscription_id`` and ``msisdn``, contiguous dates).
    Deterministic for a given ``(n, seed, today, months)``.
    """
    customers = _Customers(seed, today, months)
    rows: list[dict[str, str]] = []
    for i in range(n):
        rows += customers.customer(i)
    return rows


class _Customers:
    """The generator across customers: one seeded RNG (every draw in a fixed order, so the output is
    deterministic), the usage window, and the running subscription and mobile numbers."""

    def __init__(self, seed: int, today: date, months: int) -> None:
        self.rng = random.Random(f"customers:{seed}")
        self.seed = seed
        self.window = usage_months(today, max(months, 1))
        self.w_start, self.w_end = self.window[0][0], self.window[-1][1]
        self.w_days = (self.w_end - self.w_start).days + 1
        self.city_cum = cumulative([c[3] for c in CITIES])
        self.mobile_cum = cumulative(MOBILE_PLAN_WEIGHTS)
        self.bb_cum = cumulative(BROADBAND_PLAN_WEIGHTS)
        self.sub_seq = 100_000
        self.mobile_index = 0

    def customer(self, i: int) -> list[dict[str, str]]:
        """The ``i``-th customer's rows: the person's columns on every subscription segment."""
        base, kinds, new_customer, cust_start = self._person(i)
        customer_rows: list[dict[str, str]] = []
        for k, kind in enumerate(kinds):
            customer_rows += self._subscription(base, k, kind, new_customer, cust_start)
        rows = []
        for part in customer_rows:  # after all subscriptions: the phone is the first mobile number
            row = {**base, **part}
            rows.append({col: row[col] for col in CUSTOMER_COLUMNS})
        return rows

    def _person(self, i: int) -> tuple[dict[str, str], list[str], bool, date]:
        """Who the customer is, what they subscribe to, and since when."""
        rng = self.rng
        customer_number = f"K{100_001 + i:06d}"
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{_fold_ascii(first).lower()}.{_fold_ascii(last).lower()}{i + 1}@example.se"
        city, lo, hi, _w = CITIES[bisect_right(self.city_cum, rng.random() * self.city_cum[-1])]
        postal = rng.randint(lo, hi)
        r = rng.random()
        channel = "email" if r < 0.75 else ("sms" if r < 0.95 else "letter")
        reminder = "true" if rng.random() < 0.9 else "false"

        r = rng.random()
        n_mobile = 1 if r < 0.85 else (2 if r < 0.97 else 3)
        has_broadband = rng.random() < 0.20

        # Customer since: 85 % before the window (0-8 years), 15 % inside it.
        new_customer = rng.random() < 0.15
        if new_customer:
            cust_start = self.w_start + timedelta(days=rng.randrange(self.w_days))
        else:
            tenure = int(rng.triangular(1, 8 * 365, 2 * 365))
            cust_start = self.w_start - timedelta(days=tenure)

        base = {
            "customer_number": customer_number,
            "name": f"{first} {last}",
            "email": email,
            "phone": "",
            "street": _street(rng),
            "postal_code": f"{postal // 100:03d} {postal % 100:02d}",
            "city": city,
            "channel": channel,
            "reminder_fee_agreed": reminder,
            "cycle_day": "1",
        }
        kinds = ["mobile"] * n_mobile + (["broadband"] if has_broadband else [])
        return base, kinds, new_customer, cust_start

    def _subscription(
        self, base: dict[str, str], k: int, kind: str, new_customer: bool, cust_start: date
    ) -> list[dict[str, str]]:
        """The ``k``-th subscription of a customer: one segment, or two around a plan change."""
        rng = self.rng
        w_start, w_end = self.w_start, self.w_end
        self.sub_seq += 1
        if k == 0:
            start = cust_start
        else:
            # Later subscriptions were added some time after the first one.
            room = (w_end - cust_start).days if new_customer else (w_start - cust_start).days
            start = cust_start + timedelta(days=rng.randint(0, max(room, 0)))
        if kind == "mobile":
            msisdn = _msisdn(self.mobile_index, self.seed)
            self.mobile_index += 1
            if not base["phone"]:
                base["phone"] = msisdn
            plans, cum = MOBILE_PLANS, self.mobile_cum
        else:
            msisdn = ""
            plans, cum = BROADBAND_PLANS, self.bb_cum
        plan = plans[bisect_right(cum, rng.random() * cum[-1])]

        discount = discount_start = ""
        if start >= w_start and rng.random() < 0.34:
            discount = rng.choice(DISCOUNTS)
            discount_start = f"{start.year:04d}-{start.month:02d}"

        end: date | None = None
        if rng.random() < 0.03:
            first_end = max(start, w_start) + timedelta(days=1)
            if first_end <= w_end:
                end = first_end + timedelta(days=rng.randrange((w_end - first_end).days + 1))

        change, new_plan = self._plan_change(kind, plans, plan, start, end)
        sub = {
            "subscription_id": f"S{self.sub_seq:06d}",
            "msisdn": msisdn,
            "discount": discount,
            "discount_start": discount_start,
        }
        if change is None:
            return [{**sub, "plan": plan, "start_date": start.isoformat(), "end_date": end.isoformat() if end else ""}]
        return [
            {
                **sub,
                "plan": plan,
                "start_date": start.isoformat(),
                "end_date": (change - timedelta(days=1)).isoformat(),
            },
            {**sub, "plan": new_plan, "start_date": change.isoformat(), "end_date": end.isoformat() if end else ""},
        ]

    def _plan_change(
        self, kind: str, plans: tuple[str, ...], plan: str, start: date, end: date | None
    ) -> tuple[date | None, str]:
        """A plan change mid-month inside the window (~4 % of mobile, ~2 % of broadband), mostly an upgrade."""
        rng = self.rng
        change: date | None = None
        new_plan = plan
        if rng.random() < (0.04 if kind == "mobile" else 0.02):
            candidates = []
            for m_first, _m_last in self.window:
                d = m_first.replace(day=rng.randint(10, 20))
                if d > start + timedelta(days=14) and (end is None or d <= end):
                    candidates.append(d)
            if candidates:
                change = rng.choice(candidates)
                others = [p for p in plans if p != plan]
                idx = plans.index(plan)
                # Upgrades (the next plan up) are the most common change.
                if idx + 1 < len(plans) and rng.random() < 0.6:
                    new_plan = plans[idx + 1]
                else:
                    new_plan = rng.choice(others)
        return change, new_plan
